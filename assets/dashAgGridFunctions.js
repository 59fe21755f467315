// Value formatters of the house column types (dashboard/components/grid.py).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

dagfuncs.formatMoney = function (value) {
  if (value === null || value === undefined || value === "" || isNaN(value)) { return "n/a"; }
  var rounded = Math.round(Number(value));
  var text = "$" + Math.abs(rounded).toLocaleString("en-US");
  return rounded < 0 ? "-" + text : text;
};

dagfuncs.formatCount = function (value) {
  if (value === null || value === undefined || value === "" || isNaN(value)) { return ""; }
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 });
};

dagfuncs.formatPercent = function (value) {
  if (value === null || value === undefined || value === "" || isNaN(value)) { return "n/a"; }
  return (Number(value) * 100).toFixed(1) + "%";
};

// Statistics grid: counts with separators (2 decimals at most), ratios as percentages.
dagfuncs.formatStat = function (value, isPercent) {
  if (value === null || value === undefined || value === "") { return ""; }
  var number = Number(value);
  if (isNaN(number)) { return String(value); }
  if (isPercent) { return number.toFixed(1) + "%"; }
  return number.toLocaleString("en-US", { maximumFractionDigits: 2 });
};

// Statistics grid: where a forecast cell's value comes from — "entry" (saved), "proposal"
// (measured), "budget" (spread) — for cells without an unsaved edit; none for actual days.
dagfuncs.isUnsavedEdit = function (params) {
  if (!params.data || params.data.shows_actual || !params.data.edited) { return false; }
  return params.data.edited.indexOf(params.colDef.field) >= 0;
};

dagfuncs.cellSource = function (params) {
  if (!params.data || params.data.shows_actual || dagfuncs.isUnsavedEdit(params)) { return null; }
  return params.data.source || null;
};

// Forecast accuracy: (actual − forecast) ÷ forecast with an arrow; "—" when not known.
dagfuncs.formatAccuracy = function (value) {
  if (value === null || value === undefined || value === "" || isNaN(value)) { return "—"; }
  var number = Number(value);
  var arrow = number > 0.0005 ? "↑ " : (number < -0.0005 ? "↓ " : "");
  return arrow + (Math.abs(number) * 100).toFixed(1) + "%";
};

// Rates: dollars and cents; blank where there is no value (e.g. no actual yet).
dagfuncs.formatRate = function (value) {
  if (value === null || value === undefined || value === "" || isNaN(value)) { return ""; }
  return "$" + Number(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
};
