// Result tables (the chips, their classification, a comparison, the audit trail, the benchmark
// results) written as CSV or XLSX from any QAbstractItemModel: the header row and what each
// cell displays, the format chosen by the file's extension. Numbers go into XLSX as numbers (a
// model gives a cell's number at a role of its choosing; a display value that is already a
// number counts too), text as text; CSV is RFC 4180 (quoted where needed, CRLF, UTF-8). The file
// appears whole or not at all: a failure leaves the old file, if any, as it was.
#pragma once

#include <QString>
#include <QStringList>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

class QAbstractItemModel;

namespace crossroads::exporting {

// One clear message naming the file and the problem.
class TableExportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class TableFormat { Csv, Xlsx };

// By the extension, case-insensitively: .csv or .xlsx; nullopt for anything else.
std::optional<TableFormat> tableFormatForPath(const QString& path);

struct TableExportOptions {
    // The role at which the model gives a cell's value as a number (a QVariant holding an
    // integer or a double); a cell without one is written as its display text. -1: none.
    int numberRole = -1;
    // The worksheet's name (XLSX); characters XLSX forbids in it are replaced, and it is cut
    // to 31 characters.
    QString sheetName = QStringLiteral("Table");
};

struct TableCell {
    QString text;                 // the display text
    std::optional<double> number; // when the cell is a (finite) number
};

// A model's table read once, top-level rows only, in the model's row order (a proxy's order
// when given a proxy). Header line breaks become spaces.
struct TableSnapshot {
    QStringList headers;
    std::vector<std::vector<TableCell>> rows;
};
TableSnapshot snapshotTable(const QAbstractItemModel& model,
                            const TableExportOptions& options = {});

// The snapshot as RFC 4180 CSV (UTF-8, no BOM, CRLF line ends): numbers in plain decimal
// notation, 15 significant digits at most; every other cell as displayed.
std::string tableToCsv(const TableSnapshot& table);

// A number in the form CSV cells get ("15830.4", "2022", "1e-05").
QString numberText(double value);

// Writes the table to `path` as CSV or XLSX by its extension. Throws TableExportError
// ("cannot export to \"out.txt\": the name must end in .csv or .xlsx", "cannot write
// /x/out.csv: No such file or directory", ...).
void exportTable(const QAbstractItemModel& model, const QString& path,
                 const TableExportOptions& options = {});
void writeTable(const TableSnapshot& table, const QString& path,
                const TableExportOptions& options = {});

} // namespace crossroads::exporting
