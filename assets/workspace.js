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

  // Ctrl+Z / Ctrl+Y (and Ctrl+Shift+Z, Cmd on macOS) undo and redo the grid's unsaved edits
  // while the grid has focus and no cell editor is open (an open editor keeps its own undo).
  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) { return; }
    var key = (event.key || "").toLowerCase();
    if (key !== "z" && key !== "y") { return; }
    var host = document.getElementById("stats-grid");
    if (!host || !host.contains(document.activeElement)) { return; }
    var api = gridApi("stats-grid");
    if (api && api.getEditingCells().length) { return; }
    var redo = key === "y" || event.shiftKey;
    var button = document.getElementById(redo ? "stats-redo" : "stats-undo");
    if (!button || button.disabled) { return; }
    event.preventDefault();
    button.click();
  }, true);

  window.addEventListener("beforeunload", function (event) {
    if (window.dashboardUnsavedEdits > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
