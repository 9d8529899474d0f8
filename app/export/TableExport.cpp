#include "app/export/TableExport.h"

#include <QAbstractItemModel>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMetaType>
#include <QSaveFile>
#include <QTemporaryFile>
#include <QVariant>
#include <algorithm>
#include <cmath>
#include <xlsxwriter.h>

namespace crossroads::exporting {

namespace {

// XLSX's own limits (ECMA-376; Excel's specifications and limits).
constexpr qsizetype kXlsxMaxRows = 1048576;
constexpr qsizetype kXlsxMaxColumns = 16384;
constexpr qsizetype kXlsxMaxCellCharacters = 32767;
constexpr int kXlsxMaxSheetName = 31;
constexpr double kMinColumnWidth = 6, kMaxColumnWidth = 60;

std::string str(const QString& s) {
    return s.toStdString();
}

std::optional<double> numberOf(const QVariant& value) {
    if (!value.isValid() || value.isNull())
        return std::nullopt;
    switch (value.metaType().id()) {
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
    case QMetaType::Long:
    case QMetaType::ULong:
    case QMetaType::Short:
    case QMetaType::UShort:
    case QMetaType::Double:
    case QMetaType::Float: {
        const double d = value.toDouble();
        if (std::isfinite(d))
            return d;
        return std::nullopt;
    }
    default:
        return std::nullopt;
    }
}

QString cellText(const QVariant& value) {
    if (const auto n = numberOf(value))
        return numberText(*n);
    return value.toString();
}

// RFC 4180: a field holding a comma, a quote, CR or LF is quoted, quotes doubled.
void appendCsvField(std::string& out, const QString& text) {
    const std::string utf8 = str(text);
    if (utf8.find_first_of(",\"\r\n") == std::string::npos) {
        out += utf8;
        return;
    }
    out += '"';
    for (const char c : utf8) {
        if (c == '"')
            out += '"';
        out += c;
    }
    out += '"';
}

void appendCsvLine(std::string& out, const QStringList& fields) {
    for (qsizetype i = 0; i < fields.size(); ++i) {
        if (i > 0)
            out += ',';
        appendCsvField(out, fields[i]);
    }
    out += "\r\n";
}

QString sheetNameFor(const QString& requested) {
    QString name = requested.trimmed();
    for (QChar& c : name)
        if (QStringLiteral("[]:*?/\\").contains(c))
            c = QLatin1Char('_');
    // An apostrophe may not start or end the name (Excel quotes names with it).
    while (name.startsWith(QLatin1Char('\'')))
        name.remove(0, 1);
    name = name.left(kXlsxMaxSheetName);
    while (name.endsWith(QLatin1Char('\'')))
        name.chop(1);
    return name.isEmpty() ? QStringLiteral("Table") : name;
}

void saveWhole(const QString& path, const QByteArray& bytes) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        throw TableExportError("cannot write " + str(path) + ": " + str(file.errorString()));
    if (file.write(bytes) != bytes.size() || !file.commit())
        throw TableExportError("cannot write " + str(path) + ": " + str(file.errorString()));
}

// The owner of a workbook being written: closes (and so frees) it however the writing ends.
class Workbook {
public:
    explicit Workbook(const QByteArray& path) : book_(workbook_new(path.constData())) {}
    ~Workbook() {
        if (book_)
            workbook_close(book_); // an abandoned book: its file is thrown away
    }
    Workbook(const Workbook&) = delete;
    Workbook& operator=(const Workbook&) = delete;
    lxw_workbook* get() const { return book_; }
    lxw_error close() {
        lxw_workbook* book = book_;
        book_ = nullptr;
        return workbook_close(book);
    }

private:
    lxw_workbook* book_;
};

QByteArray xlsxBytes(const TableSnapshot& table, const TableExportOptions& options,
                     const QString& path) {
    const auto fail = [&](const std::string& why) {
        return TableExportError("cannot write " + str(path) + ": " + why);
    };
    const qsizetype columns = table.headers.size();
    if (static_cast<qsizetype>(table.rows.size()) + 1 > kXlsxMaxRows)
        throw fail("the table has more rows than XLSX allows (1,048,575 under the header)");
    if (columns > kXlsxMaxColumns)
        throw fail("the table has more columns than XLSX allows (16,384)");

    // libxlsxwriter writes to a named file: a temporary one, copied whole to `path` after.
    QTemporaryFile scratch(QDir::temp().filePath(QStringLiteral("crossroads-XXXXXX.xlsx")));
    if (!scratch.open())
        throw fail("no temporary file: " + str(scratch.errorString()));
    scratch.close();
    Workbook book(QFile::encodeName(scratch.fileName()));
    if (!book.get())
        throw fail("libxlsxwriter could not start a workbook");
    const QByteArray sheetName = sheetNameFor(options.sheetName).toUtf8();
    lxw_worksheet* sheet = workbook_add_worksheet(book.get(), sheetName.constData());
    if (!sheet)
        throw fail("libxlsxwriter could not add the worksheet");
    lxw_format* bold = workbook_add_format(book.get());
    format_set_bold(bold);

    const auto check = [&](lxw_error error, qsizetype row, qsizetype column) {
        if (error != LXW_NO_ERROR)
            throw fail("row " + std::to_string(row + 1) + ", column " + std::to_string(column + 1) +
                       ": " + lxw_strerror(error));
    };
    const auto writeText = [&](qsizetype row, qsizetype column, const QString& text,
                               lxw_format* format) {
        if (text.size() > kXlsxMaxCellCharacters)
            throw fail("the cell in row " + std::to_string(row + 1) + ", column " +
                       std::to_string(column + 1) +
                       " is longer than XLSX allows (32,767 characters)");
        if (text.isEmpty())
            return;
        const QByteArray utf8 = text.toUtf8();
        check(worksheet_write_string(sheet, static_cast<lxw_row_t>(row),
                                     static_cast<lxw_col_t>(column), utf8.constData(), format),
              row, column);
    };

    std::vector<double> widths(static_cast<std::size_t>(columns), kMinColumnWidth);
    const auto widen = [&](qsizetype column, const QString& text) {
        double& w = widths[static_cast<std::size_t>(column)];
        w = std::max(w, std::min(kMaxColumnWidth, static_cast<double>(text.size()) + 2));
    };
    for (qsizetype c = 0; c < columns; ++c) {
        writeText(0, c, table.headers[c], bold);
        widen(c, table.headers[c]);
    }
    for (std::size_t r = 0; r < table.rows.size(); ++r) {
        const auto row = static_cast<qsizetype>(r) + 1;
        const auto& cells = table.rows[r];
        for (qsizetype c = 0; c < columns && c < static_cast<qsizetype>(cells.size()); ++c) {
            const TableCell& cell = cells[static_cast<std::size_t>(c)];
            if (cell.number) {
                check(worksheet_write_number(sheet, static_cast<lxw_row_t>(row),
                                             static_cast<lxw_col_t>(c), *cell.number, nullptr),
                      row, c);
                widen(c, numberText(*cell.number));
            } else {
                writeText(row, c, cell.text, nullptr);
                widen(c, cell.text);
            }
        }
    }
    for (qsizetype c = 0; c < columns; ++c)
        check(worksheet_set_column(sheet, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                                   widths[static_cast<std::size_t>(c)], nullptr),
              0, c);
    if (columns > 0) {
        worksheet_freeze_panes(sheet, 1, 0);
        check(worksheet_autofilter(sheet, 0, 0, static_cast<lxw_row_t>(table.rows.size()),
                                   static_cast<lxw_col_t>(columns - 1)),
              0, 0);
    }
    if (const lxw_error error = book.close(); error != LXW_NO_ERROR)
        throw fail(std::string("libxlsxwriter: ") + lxw_strerror(error));

    QFile written(scratch.fileName());
    if (!written.open(QIODevice::ReadOnly))
        throw fail("cannot read the workbook back: " + str(written.errorString()));
    return written.readAll();
}

} // namespace

std::optional<TableFormat> tableFormatForPath(const QString& path) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("csv"))
        return TableFormat::Csv;
    if (suffix == QLatin1String("xlsx"))
        return TableFormat::Xlsx;
    return std::nullopt;
}

QString numberText(double value) {
    if (value == 0)
        return QStringLiteral("0"); // not "-0"
    return QString::number(value, 'g', 15);
}

TableSnapshot snapshotTable(const QAbstractItemModel& model, const TableExportOptions& options) {
    TableSnapshot table;
    const int columns = model.columnCount();
    for (int c = 0; c < columns; ++c) {
        QString header = model.headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
        header.replace(QLatin1Char('\n'), QLatin1Char(' '));
        table.headers << header.simplified();
    }
    const int rows = model.rowCount();
    table.rows.reserve(static_cast<std::size_t>(std::max(rows, 0)));
    for (int r = 0; r < rows; ++r) {
        std::vector<TableCell> cells;
        cells.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
            const QModelIndex index = model.index(r, c);
            const QVariant display = model.data(index, Qt::DisplayRole);
            TableCell cell;
            cell.text = cellText(display);
            if (options.numberRole >= 0)
                cell.number = numberOf(model.data(index, options.numberRole));
            if (!cell.number)
                cell.number = numberOf(display);
            cells.push_back(std::move(cell));
        }
        table.rows.push_back(std::move(cells));
    }
    return table;
}

std::string tableToCsv(const TableSnapshot& table) {
    std::string out;
    appendCsvLine(out, table.headers);
    for (const auto& cells : table.rows) {
        QStringList fields;
        for (const TableCell& cell : cells)
            fields << (cell.number ? numberText(*cell.number) : cell.text);
        appendCsvLine(out, fields);
    }
    return out;
}

void writeTable(const TableSnapshot& table, const QString& path,
                const TableExportOptions& options) {
    const auto format = tableFormatForPath(path);
    if (!format)
        throw TableExportError("cannot export to \"" + str(path) +
                               "\": the name must end in .csv or .xlsx");
    if (table.headers.isEmpty())
        throw TableExportError("cannot write " + str(path) + ": the table has no columns");
    if (*format == TableFormat::Csv) {
        const std::string text = tableToCsv(table);
        saveWhole(path, QByteArray(text.data(), static_cast<qsizetype>(text.size())));
    } else {
        saveWhole(path, xlsxBytes(table, options, path));
    }
}

void exportTable(const QAbstractItemModel& model, const QString& path,
                 const TableExportOptions& options) {
    writeTable(snapshotTable(model, options), path, options);
}

} // namespace crossroads::exporting
