"""The two small widgets of lesson 06 that run in the browser (anywidget).

``DrawingCanvas`` draws strokes in the browser and sends the kernel one PNG of the
page per finished stroke (one message, however long the stroke), instead of one
message per mouse move. ``KernelLink`` shows, on the page, that a widget has lost its
kernel (a restart): JupyterLab and Notebook 7 then only mark every widget view with a
``jupyter-widgets-disconnected`` class, so the explorer and the pad would look alive and
do nothing.

anywidget serves the same JavaScript to JupyterLab, Notebook 7, VS Code and Colab.
Colab shows third-party widgets only after ``enable_custom_widget_manager()``:
:func:`prepare_host` makes that call when it finds itself in Colab.
"""

from __future__ import annotations

import sys

import anywidget
import traitlets as t
from ipywidgets.widgets.trait_types import bytes_serialization

_colab_ready = False


def in_colab() -> bool:
    """True inside a Google Colab kernel (its output module is imported there at start-up)."""
    return "google.colab.output" in sys.modules or "google.colab" in sys.modules


def prepare_host() -> str:
    """Make this notebook host able to show the lesson's widgets; returns what was done.

    In Colab that is ``google.colab.output.enable_custom_widget_manager()``, once per
    kernel (Colab's own widget manager knows only the core widgets). Elsewhere nothing
    is needed: JupyterLab, Notebook 7 and VS Code load anywidget's front end themselves.
    """
    global _colab_ready
    if not in_colab():
        return "nothing needed"
    if not _colab_ready:
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
        _colab_ready = True
    return "Colab: custom widget manager enabled"


_LOST_JS = """
// Shown when this widget's model loses its kernel. ipywidgets' managers (JupyterLab,
// Notebook 7) set comm_live = false on every model when the kernel restarts, and
// trigger "comm_live_update"; nothing else tells the page.
export function watchKernel(model, el, notice, text) {
  model.on("comm_live_update", () => {
    notice.textContent = text;
    notice.style.display = "";
    const host = el.closest(".prediction-explorer, .drawing-pad");
    if (host) host.classList.add("kernel-lost");
  });
}
"""

_KERNEL_LINK_ESM = (
    _LOST_JS
    + """
function render({ model, el }) {
  const notice = document.createElement("div");
  notice.className = "kernel-lost-notice";
  notice.setAttribute("role", "alert");
  notice.style.cssText = "display:none;padding:6px 10px;margin:4px 0;border:2px solid #D55E00;" +
    "border-radius:4px;background:#fff4ec;color:#1a1a1a;font-weight:bold";
  el.appendChild(notice);
  watchKernel(model, el, notice, model.get("message"));
}
export default { render };
"""
)


class KernelLink(anywidget.AnyWidget):
    """An empty strip that turns into a warning when the widget around it loses its kernel."""

    _esm = _KERNEL_LINK_ESM
    message = t.Unicode(
        "⚠ Disconnected: the kernel was restarted, so this no longer answers. "
        "Run the cells above, then this cell again."
    ).tag(sync=True)


_CANVAS_ESM = (
    _LOST_JS
    + """
function render({ model, el }) {
  const size = model.get("size");
  const wrap = document.createElement("div"); // the page and, over its foot, the notice
  wrap.className = "pad-canvas-wrap";
  wrap.style.cssText = `position:relative;width:${size + 4}px`;
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.className = "pad-canvas";
  // a white page in light and dark themes alike; touch-action: a pen or finger draws, not scrolls
  canvas.style.cssText = `width:${size}px;height:${size}px;border:2px solid #888;` +
    "background:white;touch-action:none;cursor:crosshair;display:block";
  const ctx = canvas.getContext("2d");
  const notice = document.createElement("div");
  notice.className = "pad-status";
  notice.setAttribute("role", "status");
  notice.style.cssText = "display:none;position:absolute;left:2px;right:2px;bottom:2px;" +
    "padding:4px 6px;background:#fff4ec;color:#1a1a1a;border-top:2px solid #D55E00;font-size:12px";
  const clear = document.createElement("button");
  clear.className = "pad-clear jupyter-widgets jupyter-button widget-button";
  clear.textContent = "clear";
  clear.style.marginTop = "4px";
  wrap.append(canvas, notice);
  el.append(wrap, clear);

  let last = null; // the previous point of the stroke being drawn, null between strokes
  let lost = false;
  let waiting = null;
  const paper = () => {
    ctx.fillStyle = "white";
    ctx.fillRect(0, 0, size, size);
  };
  const say = (text) => {
    notice.textContent = text;
    notice.style.display = text ? "" : "none";
  };
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left - 2) * size) / (r.width - 4),
            ((e.clientY - r.top - 2) * size) / (r.height - 4)];
  };
  const pen = () => {
    ctx.strokeStyle = ctx.fillStyle = "black";
    ctx.lineWidth = model.get("line_width");
    ctx.lineCap = ctx.lineJoin = "round";
  };
  const send = (buffer) => {
    if (lost) return;
    const n = model.get("strokes") + 1;
    model.set("image", new DataView(buffer));
    model.set("strokes", n); // one update message: the page and the stroke count together
    model.save_changes();
    clearTimeout(waiting);
    waiting = setTimeout(() => {
      if (!lost && model.get("answered") < n) say(model.get("no_answer"));
    }, model.get("patience_ms"));
  };
  paper();
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    pen();
    ctx.beginPath();
    ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    pen();
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    last = p;
  });
  const finish = () => {
    if (!last) return;
    last = null;
    canvas.toBlob((blob) => blob.arrayBuffer().then(send), "image/png");
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  canvas.addEventListener("lostpointercapture", finish);
  clear.addEventListener("click", () => {
    paper();
    send(new ArrayBuffer(0));
  });
  model.on("msg:custom", (msg) => {
    if (msg && msg.type === "clear") paper();
  });
  model.on("change:answered", () => {
    if (!lost && model.get("answered") >= model.get("strokes")) say("");
  });
  watchKernel(model, el, notice, model.get("lost_message"));
  model.on("comm_live_update", () => {
    lost = true;
    clearTimeout(waiting);
  });
}
export default { render };
"""
)


class DrawingCanvas(anywidget.AnyWidget):
    """A white page the learner draws on with mouse, pen or finger, entirely in the browser.

    Each finished stroke sets ``image`` (the whole page as a PNG, RGBA, ``size`` x ``size``)
    and ``strokes`` (their count) in one message; the kernel sets ``answered`` to that count
    when it has read the page, and the browser says so when no answer comes within
    ``patience_ms``. An empty ``image`` means the learner pressed *clear*.
    """

    _esm = _CANVAS_ESM
    size = t.Int(280).tag(sync=True)
    line_width = t.Int(18).tag(sync=True)
    image = t.Bytes(b"").tag(sync=True, **bytes_serialization)
    strokes = t.Int(0).tag(sync=True)
    answered = t.Int(0).tag(sync=True)
    patience_ms = t.Int(20_000).tag(sync=True)
    no_answer = t.Unicode(
        "The kernel has not answered yet: it may still be busy (wait a little), or it was "
        "restarted or stopped (then run the cells above and this cell again)."
    ).tag(sync=True)
    lost_message = t.Unicode(
        "⚠ Disconnected: the kernel was restarted, so nothing reads this pad now. "
        "Run the cells above, then this cell again."
    ).tag(sync=True)

    def clear(self) -> None:
        """Wipe the page in every view of this canvas."""
        self.image = b""
        self.send({"type": "clear"})
