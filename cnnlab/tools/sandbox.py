"""Run a graded notebook's kernel in a bubblewrap sandbox.

The course's ``nbgrader_config.py`` makes nbgrader start every kernel it
autogrades through :class:`SandboxKernelManager` (with ``make grade`` and with
Formgrader's "autograde" button alike). Inside the sandbox the kernel sees:

- its own notebook folder, read-write, as ``/home/student/<lesson>`` (its
  working directory; where it lies on the grader's disk stays hidden);
- a private, empty ``/tmp`` (also its ``HOME``);
- read-only: the system's programs and libraries (``/usr``), the Python
  installation and virtual environment it runs from, the ``cnnlab`` package
  and the course data (``data/``);
- nothing else: not ``source/`` (the solutions and hidden tests), not the
  gradebook, not other students' folders, not the teacher's home.

It has no network (``--unshare-net``), its own process and IPC namespaces, an
environment stripped to a short allow-list (no tokens of the teacher's
session), and an address-space limit (``memory_limit``, 4 GB by default) set
with ``prlimit``. It talks to the grader over ZeroMQ ``ipc`` sockets in a
private folder shared with it.

Without ``bwrap`` grading is refused, unless ``allow_unsandboxed`` is set
(``make grade UNSANDBOXED=1``); every such run then logs a warning.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, List, Unicode

__all__ = ["SandboxKernelManager", "SandboxUnavailable", "sandbox_status", "memory_bytes",
           "sandbox_command", "UNSANDBOXED_WARNING"]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MEMORY = "4G"
SANDBOX_HOME = "/home/student"  # the notebook folder appears as /home/student/<its name>
UNSANDBOXED_ENV = "CNNLAB_GRADE_UNSANDBOXED"
UNSANDBOXED_WARNING = (
    "WARNING: grading WITHOUT a sandbox (bubblewrap is not available): students' code runs "
    "with your rights and can read the solutions in source/, write the gradebook and use the "
    "network. Install bubblewrap (tests/grading/install_bubblewrap.sh) to grade safely.")
# Environment variables the kernel keeps (by exact name or prefix); all others are dropped.
KEEP_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "NBGRADER_EXECUTION", "PYTHONHASHSEED",
            "PYTHONDONTWRITEBYTECODE", "LC_", "CNNLAB_", "TF_", "KERAS_", "OMP_", "MKL_",
            "OPENBLAS_", "CUDA_VISIBLE_DEVICES", "MPLBACKEND")
# System paths the kernel needs, read-only (missing ones are skipped).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache",
                "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/fonts", "/etc/localtime",
                "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives",
                "/etc/matplotlibrc")


class SandboxUnavailable(RuntimeError):
    """No working bubblewrap, and unsandboxed grading was not allowed."""


def memory_bytes(limit) -> int:
    """``"4G"``, ``"512M"``, ``"1.5G"`` or a number of bytes, as a number of bytes.

    Parameters
    ----------
    limit : str or int
        Size with an optional suffix K, M, G or T (powers of 1024).
    """
    if isinstance(limit, bool) or not isinstance(limit, (str, int)):
        raise TypeError(f"limit: expected a size such as '4G' or a number of bytes, "
                        f"got {type(limit).__name__}")
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)B?\s*", str(limit), flags=re.I)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"limit: expected a size such as '4G', '512M' or a number of bytes, "
                         f"got {limit!r}")
    power = " KMGT".index(match.group(2).upper() or " ")
    return int(float(match.group(1)) * 1024 ** power)


@functools.lru_cache(maxsize=None)
def sandbox_status() -> str:
    """``""`` when bubblewrap works here, else why not (one line)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "bubblewrap (bwrap) is not installed"
    probe = [bwrap, "--unshare-all", "--die-with-parent", *_system_binds(), "--dev", "/dev",
             "--proc", "/proc", "--", "/bin/true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start: {exc}"
    if done.returncode:
        return f"bwrap cannot make a sandbox here: {done.stderr.strip()[:300]}"
    return ""


def _system_binds() -> list[str]:
    args = []
    for path in SYSTEM_PATHS:
        if os.path.lexists(path):
            args += ["--ro-bind", path, path]
    return args


def _python_paths() -> list[Path]:
    """The Python installation, the virtual environment, the cnnlab package and course data."""
    import cnnlab

    paths = [Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent,
             Path(cnnlab.__file__).resolve().parent, ROOT / "data"]
    seen = []
    for path in paths:
        if path.exists() and not any(path == p or p in path.parents for p in seen):
            seen = [p for p in seen if path not in p.parents] + [path]
    return seen


def sandbox_command(cmd, workdir, socket_dir, memory=DEFAULT_MEMORY, read_only=()) -> list[str]:
    """``cmd`` wrapped in ``bwrap`` (see the module's docstring for what it sees).

    Parameters
    ----------
    cmd : list of str
        The kernel's command line.
    workdir : path
        The notebook folder, shared read-write as ``/home/student/<its name>``;
        the kernel starts in it.
    socket_dir : path
        The folder with the connection file and the ipc sockets, shared read-write.
    memory : str or int
        Address-space limit of the kernel (``"4G"``, bytes, ...).
    read_only : sequence of paths
        More folders to share read-only.
    """
    if not cmd or not all(isinstance(c, str) for c in cmd):
        raise ValueError(f"cmd: expected a non-empty list of strings, got {cmd!r}")
    workdir, socket_dir = Path(workdir).resolve(), Path(socket_dir).resolve()
    for name, path in (("workdir", workdir), ("socket_dir", socket_dir)):
        if not path.is_dir():
            raise ValueError(f"{name}: expected an existing folder, got {str(path)!r}")
    inside = f"{SANDBOX_HOME}/{workdir.name}"  # where the kernel sees its folder
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent",
            *_system_binds(),
            # the private /tmp first: a course checked out under /tmp (its .venv, its data)
            # is bound over it below, read-only
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--dir", "/tmp/home", "--setenv", "HOME", "/tmp/home",
            "--setenv", "MPLCONFIGDIR", "/tmp/home/.matplotlib"]
    for path in [*_python_paths(), *map(Path, read_only)]:
        args += ["--ro-bind", str(path), str(path)]
    args += [# the launcher's parent pid means nothing in the sandbox's pid namespace
             # (ipykernel would see pid 1 and stop); --die-with-parent does that job
             "--unsetenv", "JPY_PARENT_PID",
             "--bind", str(socket_dir), str(socket_dir),
             "--bind", str(workdir), inside, "--chdir", inside,
             "--remount-ro", "/"]  # the folders made to hold the binds are read-only too
    return [*args, "--", *limited(cmd, memory)]


def limited(cmd, memory=DEFAULT_MEMORY) -> list[str]:
    """``cmd`` started under ``prlimit`` with an address-space limit (when prlimit exists)."""
    prlimit = shutil.which("prlimit")
    if not prlimit:
        return list(cmd)
    return [prlimit, f"--as={memory_bytes(memory)}", "--core=0", "--", *cmd]


def kernel_env(env) -> dict:
    """The kernel's environment: ``env`` cut to :data:`KEEP_ENV`, ``HOME`` in the sandbox,
    fast mode (``CNNLAB_FAST=1``) unless ``env`` says otherwise, two malloc arenas."""
    kept = {k: v for k, v in (env or os.environ).items()
            if k in KEEP_ENV or any(k.startswith(p) for p in KEEP_ENV if p.endswith("_"))}
    kept.update(HOME="/tmp/home", MPLCONFIGDIR="/tmp/home/.matplotlib",
                PYTHONDONTWRITEBYTECODE="1")
    kept.setdefault("CNNLAB_FAST", "1")  # graded lessons train briefly (CNNLAB_FAST=0: in full)
    # glibc reserves 64 MB of address space for each thread's malloc arena; TensorFlow's
    # threads would spend the address-space limit on reservations, not on memory
    kept["MALLOC_ARENA_MAX"] = "2"
    return kept


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside bubblewrap (see the module docstring).

    Configure it in ``nbgrader_config.py``::

        c.SandboxKernelManager.memory_limit = "4G"
        c.SandboxKernelManager.allow_unsandboxed = False
    """

    memory_limit = Unicode(DEFAULT_MEMORY, help="address-space limit per kernel, e.g. '4G'"
                           ).tag(config=True)
    allow_unsandboxed = Bool(False, help="grade without a sandbox where bubblewrap is missing "
                                         "(students' code then runs with your rights)"
                             ).tag(config=True)
    read_only = List(Unicode(), help="more folders the kernel may read").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._socket_dir = None

    async def _async_pre_start_kernel(self, **kw):
        memory_bytes(self.memory_limit)  # a bad setting fails before any kernel starts
        problem = sandbox_status()
        if problem and not (self.allow_unsandboxed or os.environ.get(UNSANDBOXED_ENV) == "1"):
            raise SandboxUnavailable(
                f"refusing to run a student's notebook without a sandbox: {problem}. Install "
                "bubblewrap (tests/grading/install_bubblewrap.sh, or apt-get install bubblewrap), "
                "or allow unsandboxed grading explicitly (make grade UNSANDBOXED=1).")
        if self.kernel_spec is not None:
            # a signal to the process group stops at bwrap; a control message reaches the kernel
            self.kernel_spec.interrupt_mode = "message"
        if self._socket_dir is None:  # the same sockets on a restart
            self._socket_dir = tempfile.mkdtemp(prefix="cnnlab-kernel-")
            self.transport = "ipc"
            self.cache_ports = False
            self.connection_file = os.path.join(self._socket_dir, "kernel.json")
            self.ip = os.path.join(self._socket_dir, "k")
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        workdir = kw.get("cwd") or os.getcwd()
        if problem:
            self.log.warning(UNSANDBOXED_WARNING)
            return limited(cmd, self.memory_limit), kw
        kw["env"] = kernel_env(kw.get("env"))
        kw["stdout"] = subprocess.DEVNULL  # ipykernel's connection banner, nothing a cell prints
        return sandbox_command(cmd, workdir, self._socket_dir, self.memory_limit,
                               self.read_only), kw

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
