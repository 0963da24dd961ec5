// The import form's column choices from the chosen file's header, before it is sent.
// The form works without this: the server names the columns when it needs a choice.
const form = document.getElementById("import-form");
const file = document.getElementById("file");
const choices = document.getElementById("import-columns");
const nameColumn = document.getElementById("name_column");

function headerColumns(text) {
  const line = text.replace(/^\ufeff/, "").split(/\r?\n/, 1)[0];
  const counts = [",", ";", "\t"].map((d) => line.split(d).length - 1);
  const delimiter = [",", ";", "\t"][counts.indexOf(Math.max(...counts))];
  return line.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, "$1").trim());
}

if (form && file && choices && nameColumn) {
  file.addEventListener("change", async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    const columns = headerColumns(await chosen.slice(0, 65536).text()).filter((c) => c);
    choices.replaceChildren(
      ...columns.map((c) => {
        const option = document.createElement("option");
        option.value = c;
        return option;
      }),
    );
    if (columns.length === 1 && !nameColumn.value) nameColumn.value = columns[0];
  });
}
