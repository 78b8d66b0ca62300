// A canvas to draw a digit on, white ink on black (cnnlab, lesson 09: DrawingPad).
//
// The model's traits: `size` (canvas side in pixels, square), `stroke_width`
// (pen width in canvas pixels), `pixels` (the drawing: size * size bytes, the
// ink of each pixel 0-255, row by row), `strokes` (how many strokes have
// ended), `sends` (how many times the drawing was sent: Python reads it on
// this), `drawn` (the last send Python has finished drawing) and `picture_id`
// (Python raises it after writing `pixels` itself, to have the canvas show
// them). Pointer events, so a mouse, a pen and a finger all draw. The drawing
// goes to Python at the end of every stroke (pointerup), and every
// THROTTLE_MS while a stroke goes on; while Python is still drawing the last
// one, a send during a stroke waits (the newest drawing then goes as soon as
// it is done), so no backlog builds up behind a slow kernel.

const THROTTLE_MS = 100;
const PATIENCE_MS = 2000;     // after this, send even if Python has not answered
const INK = "#ffffff";

function render({ model, el }) {
  const size = model.get("size");
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.className = "cnnlab-drawing-pad";
  canvas.title = "draw a digit: hold the mouse button (or touch) and move";
  Object.assign(canvas.style, {
    width: `${size}px`, height: `${size}px`, background: "#000000", display: "block",
    touchAction: "none", cursor: "crosshair", border: "1px solid #bdbdbd",
  });
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const clear = document.createElement("button");
  clear.className = "jupyter-button cnnlab-clear";
  clear.textContent = "clear";
  clear.title = "wipe the drawing";
  clear.style.marginTop = "4px";

  let last = null;          // the pen's last point while a stroke goes on
  let pointer = null;       // the pointer drawing it
  let sentAt = 0;
  let unsent = 0;           // strokes ended since the last send
  let owed = false;         // a send held back until Python has drawn the last one

  function at(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * size / box.width,
            (event.clientY - box.top) * size / box.height];
  }

  function pen() {
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineWidth = model.get("stroke_width");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }

  function dot(p) {
    pen();
    ctx.beginPath();
    ctx.arc(p[0], p[1], model.get("stroke_width") / 2, 0, 2 * Math.PI);
    ctx.fill();
  }

  function line(a, b) {
    pen();
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  }

  function busy() {
    return model.get("drawn") < model.get("sends") && performance.now() - sentAt < PATIENCE_MS;
  }

  function send() {
    const rgba = ctx.getImageData(0, 0, size, size).data;
    const ink = new Uint8Array(size * size);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3];   // alpha = ink
    model.set("pixels", new DataView(ink.buffer));
    model.set("strokes", model.get("strokes") + unsent);
    model.set("sends", model.get("sends") + 1);        // Python reads the drawing on this
    model.save_changes();
    sentAt = performance.now();
    owed = false;
    unsent = 0;
  }

  function offer() {
    if (!busy()) {
      send();
    } else if (!owed) {
      owed = true;
      setTimeout(answered, PATIENCE_MS);             // in case Python never answers
    }
  }

  function answered() {
    if (owed && !busy()) send();
  }

  function paint() {
    const view = model.get("pixels");
    ctx.clearRect(0, 0, size, size);
    if (!view || view.byteLength !== size * size) return;
    const ink = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    const image = ctx.createImageData(size, size);
    for (let i = 0; i < ink.length; i++) {
      image.data[4 * i] = 255;
      image.data[4 * i + 1] = 255;
      image.data[4 * i + 2] = 255;
      image.data[4 * i + 3] = ink[i];
    }
    ctx.putImageData(image, 0, 0);
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    pointer = event.pointerId;
    last = at(event);
    dot(last);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (event.pointerId !== pointer || last === null) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) {
      const p = at(e);
      line(last, p);
      last = p;
    }
    if (performance.now() - sentAt >= THROTTLE_MS) offer();
  });
  const end = (event) => {
    if (event.pointerId !== pointer) return;
    pointer = null;
    last = null;
    unsent += 1;
    send();                 // at once: at most this one waits behind the one being drawn
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  clear.addEventListener("click", () => {
    ctx.clearRect(0, 0, size, size);
    offer();
  });
  model.on("change:picture_id", paint);
  model.on("change:drawn", answered);

  paint();
  el.appendChild(canvas);
  el.appendChild(clear);
  return () => {
    model.off("change:picture_id", paint);
    model.off("change:drawn", answered);
  };
}

export default { render };
