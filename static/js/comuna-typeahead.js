// The comuna list as a type-ahead: a text box with suggestions (a <datalist>) in front of the
// plain <select>, which stays in the form and is what is sent. Without JavaScript the page keeps
// the plain <select>, grouped by region. Typing "nunoa" finds "Ñuñoa" (accents and case ignored).
(function () {
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }
  var select = document.querySelector("select[data-typeahead]");
  if (!select || !("list" in document.createElement("input"))) return;
  var input = document.createElement("input");
  var list = document.createElement("datalist");
  var byName = {};
  list.id = select.id + "-opciones";
  Array.prototype.forEach.call(select.options, function (opt) {
    if (!opt.value) return;
    var item = document.createElement("option");
    item.value = opt.text;
    if (opt.parentNode.label) item.label = opt.parentNode.label;
    list.appendChild(item);
    byName[plain(opt.text)] = opt.value;
  });
  input.type = "text";
  input.className = select.className;
  input.setAttribute("list", list.id);
  input.setAttribute("autocomplete", "off");
  ["aria-describedby", "aria-invalid"].forEach(function (name) {
    if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
  });
  if (select.selectedIndex > 0) input.value = select.options[select.selectedIndex].text;
  input.id = select.id;
  select.id = select.id + "-lista";
  select.hidden = true;
  select.setAttribute("aria-hidden", "true");
  select.tabIndex = -1;
  function sync() {
    select.value = byName[plain(input.value)] || "";
  }
  input.addEventListener("input", sync);
  input.addEventListener("change", sync);
  select.parentNode.insertBefore(input, select);
  select.parentNode.insertBefore(list, select);
})();
