/* Date fields as Vietnamese write them, whatever the browser's language: dd/mm/yyyy (and
   mm/yyyy for months). The fields are text inputs (forms_registry.DateInput / MonthInput); this
   only adds the slashes while digits are typed ("03021941" -> "03/02/1941"). The server parses
   the text (DATE_INPUT_FORMATS), so the field works without this file too. */
(function () {
  "use strict";

  function shape(value, kind) {
    // only digits, with the slashes this file put after two-digit parts, are reshaped: a
    // separator typed after one digit ("5/6/2025") or an ISO date is left as it is
    var ours = kind === "month" ? /^\d{2}\/\d*$/ : /^\d{2}\/(\d{2}\/)?\d*$/;
    if (/\/$/.test(value) || (!/^\d+$/.test(value) && !ours.test(value))) return value;
    value = value.replace(/\//g, "");
    var cuts = kind === "month" ? [2] : [2, 4];
    var out = "";
    var at = 0;
    cuts.forEach(function (cut) {
      if (value.length > cut) {
        out += value.slice(at, cut) + "/";
        at = cut;
      }
    });
    return (out + value.slice(at)).slice(0, kind === "month" ? 7 : 10);
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("input[data-date-input]")) return;
    if (event.inputType && event.inputType.indexOf("delete") === 0) return; // let people erase
    var shaped = shape(field.value, field.getAttribute("data-date-input"));
    if (shaped !== field.value) field.value = shaped;
  });
})();
