// Workspace helpers: paste a block copied from a spreadsheet into the statistics grid, and
// warn before leaving the page with unsaved edits. The server validates every pasted cell.
(function () {
  function gridApi(id) {
    try { return window.dash_ag_grid.getApi(id); } catch (e) { return null; }
  }

  document.addEventListener("paste", function (event) {
    var host = document.getElementById("stats-grid");
    if (!host || !host.contains(document.activeElement)) { return; }
    var api = gridApi("stats-grid");
    if (!api) { return; }
    var focused = api.getFocusedCell();
    if (!focused || api.getEditingCells().length) { return; }  // typing into an editor: normal paste
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (!text) { return; }
    event.preventDefault();
    var columns = api.getAllDisplayedColumns().map(function (c) { return c.getColId(); });
    var days = [];
    api.forEachNodeAfterFilterAndSort(function (node) { days.push(node.data.day); });
    var row = api.getDisplayedRowAtIndex(focused.rowIndex);
    window.dash_clientside.set_props("stats-paste", {
      data: {
        text: text, columns: columns, days: days, day: row.data.day,
        column: focused.column.getColId(), at: Date.now()
      }
    });
  }, true);

  window.addEventListener("beforeunload", function (event) {
    if (window.dashboardUnsavedEdits > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
