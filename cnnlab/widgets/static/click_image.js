// A PNG picture of a grid on which a click picks a cell (cnnlab, lesson 10).
//
// The model's traits: `value` (PNG bytes), `rows` and `cols` (the grid the
// picture shows), `width` (CSS pixels on screen) and `picked` ([row, col],
// the last cell clicked). Python redraws the picture; this module only shows
// it and sends the clicked cell back.

function cellAt(event, img, rows, cols) {
  const box = img.getBoundingClientRect();
  const fraction = (offset, size) => Math.min(Math.max(offset / size, 0), 0.999999);
  const row = Math.floor(fraction(event.clientY - box.top, box.height) * rows);
  const col = Math.floor(fraction(event.clientX - box.left, box.width) * cols);
  return [row, col];
}

function render({ model, el }) {
  const img = document.createElement("img");
  img.className = "cnnlab-click-image";
  img.alt = "the layer's output grid: click a cell to pick that unit";
  img.style.imageRendering = "pixelated";
  img.style.cursor = "crosshair";
  img.style.border = "1px solid #bdbdbd";
  let url = null;

  function show() {
    const bytes = model.get("value");
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
    img.src = url;
    img.style.width = `${model.get("width")}px`;
    img.style.height = "auto";
  }

  img.addEventListener("click", (event) => {
    const rows = model.get("rows");
    const cols = model.get("cols");
    if (rows < 1 || cols < 1) return;
    model.set("picked", cellAt(event, img, rows, cols));
    model.save_changes();
  });
  model.on("change:value", show);
  model.on("change:width", show);
  show();
  el.appendChild(img);
  return () => {
    if (url) URL.revokeObjectURL(url);
  };
}

export default { render };
