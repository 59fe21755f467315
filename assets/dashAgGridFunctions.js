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
