/* "Copiar enlace": adds a copy button next to each [data-copy] field. Without JavaScript the
   field stays, ready to select and copy by hand. */
(function () {
  document.querySelectorAll("[data-copy]").forEach(function (field) {
    if (!navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button--secondary";
    button.textContent = field.getAttribute("data-copy");
    var status = document.getElementById(field.getAttribute("data-copy-status"));
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) status.textContent = field.getAttribute("data-copied");
      });
    });
    field.parentNode.insertBefore(button, field.nextSibling);
  });
})();
