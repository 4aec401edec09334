// Select text in a citizen message to fill the "new entity" fields of its annotation form.
(function () {
  "use strict";
  function offsetIn(container, node, offset) {
    var range = document.createRange();
    range.selectNodeContents(container);
    range.setEnd(node, offset);
    // Hidden helper text (screen-reader labels) is not part of the message.
    var fragment = range.cloneContents();
    fragment.querySelectorAll(".visually-hidden").forEach(function (el) { el.remove(); });
    return fragment.textContent.length;
  }
  document.querySelectorAll(".turn.user").forEach(function (turn) {
    var text = turn.querySelector("p.text");
    var form = turn.querySelector(".annotation-form");
    if (!text || !form) { return; }
    text.addEventListener("mouseup", function () {
      var sel = window.getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) { return; }
      var r = sel.getRangeAt(0);
      if (!text.contains(r.startContainer) || !text.contains(r.endContainer)) { return; }
      var full = text.getAttribute("data-text") || "";
      var start = offsetIn(text, r.startContainer, r.startOffset);
      var end = offsetIn(text, r.endContainer, r.endOffset);
      while (start < end && /\s/.test(full.charAt(start))) { start++; }
      while (end > start && /\s/.test(full.charAt(end - 1))) { end--; }
      if (end <= start) { return; }
      turn.querySelector("details.annotate").open = true;
      form.querySelector("[name=new_start]").value = start;
      form.querySelector("[name=new_end]").value = end;
      form.querySelector("[name=new_text]").value = full.slice(start, end);
      form.querySelector("[name=new_entity]").focus();
    });
    // Typing the text by hand clears the selected offsets: the server then locates the text.
    form.querySelector("[name=new_text]").addEventListener("input", function () {
      form.querySelector("[name=new_start]").value = "";
      form.querySelector("[name=new_end]").value = "";
    });
  });
}());
