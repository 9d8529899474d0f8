// Table export (app/export): CSV that an RFC 4180 reader gives back cell for cell (commas,
// quotes, line breaks, UTF-8), XLSX that is a well-formed zip whose sheet holds numbers as
// numbers and text as shared strings, the model's (a proxy's) row order, and failures that name
// the file and leave an existing file as it was.
#include "app/export/TableExport.h"
#include "data/Csv.h"
#include "tests/common/ZipReader.h"

#include <QFile>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTemporaryDir>
#include <QTest>

using namespace crossroads;
using exporting::TableExportError;

namespace {

constexpr int kNumberRole = Qt::UserRole + 7;

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// Three columns: text that needs quoting, a number given at kNumberRole (displayed rounded and
// grouped, as the workbench shows figures), and a display value that is itself a number.
std::unique_ptr<QStandardItemModel> sampleModel() {
    auto model = std::make_unique<QStandardItemModel>(0, 3);
    model->setHorizontalHeaderLabels({QStringLiteral("Name, full"),
                                      QStringLiteral("TPP\n(bit × TOPS)"), QStringLiteral("Year")});
    const auto add = [&](const QString& name, std::optional<double> tpp, const QString& shown,
                         int year) {
        auto* a = new QStandardItem(name);
        auto* b = new QStandardItem(shown);
        if (tpp)
            b->setData(*tpp, kNumberRole);
        auto* c = new QStandardItem;
        c->setData(year, Qt::DisplayRole);
        model->appendRow({a, b, c});
    };
    add(QStringLiteral("H100 SXM5, 80GB"), 15830.4, QStringLiteral("15,830.4"), 2022);
    add(QStringLiteral("Quote \"Hopper\" here"), 2368, QStringLiteral("2,368"), 2023);
    add(QStringLiteral("Two\nlines and die area mm²"), std::nullopt, QStringLiteral("unknown"),
        2019);
    add(QStringLiteral("Plain"), 0.125, QStringLiteral("0.125"), 2024);
    return model;
}

exporting::TableExportOptions options() {
    exporting::TableExportOptions o;
    o.numberRole = kNumberRole;
    o.sheetName = QStringLiteral("Chips: [test]");
    return o;
}

// The attributes and the content of one cell of the sheet XML ("B2").
struct XmlCell {
    QString attributes, content;
    bool found = false;
};
XmlCell cellXml(const QString& sheet, const QString& ref) {
    const QRegularExpression re(QStringLiteral("<c r=\"%1\"([^>]*)>(.*?)</c>").arg(ref));
    const auto m = re.match(sheet);
    return m.hasMatch() ? XmlCell{m.captured(1), m.captured(2), true} : XmlCell{};
}

} // namespace

class TestTableExport : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

private Q_SLOTS:
    void formatByExtension_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("format"); // -1: none
        QTest::newRow("csv") << "a/b.csv" << int(exporting::TableFormat::Csv);
        QTest::newRow("CSV") << "B.CSV" << int(exporting::TableFormat::Csv);
        QTest::newRow("xlsx") << "t.xlsx" << int(exporting::TableFormat::Xlsx);
        QTest::newRow("xls") << "t.xls" << -1;
        QTest::newRow("none") << "table" << -1;
        QTest::newRow("json") << "t.json" << -1;
    }
    void formatByExtension() {
        QFETCH(QString, path);
        QFETCH(int, format);
        const auto f = exporting::tableFormatForPath(path);
        QCOMPARE(f ? int(*f) : -1, format);
    }

    void csvRoundTrip() {
        const auto model = sampleModel();
        const QString path = dir_.filePath(QStringLiteral("t.csv"));
        exporting::exportTable(*model, path, options());
        const QByteArray bytes = readAll(path);
        QVERIFY(!bytes.startsWith("\xEF\xBB\xBF")); // no BOM: RFC 4180 UTF-8
        QVERIFY(bytes.endsWith("\r\n"));
        const auto records = data::parseCsv(bytes.toStdString());
        QCOMPARE(records.size(), size_t(5));
        const auto field = [&](size_t r, size_t c) {
            return QString::fromStdString(records[r].fields[c]);
        };
        // Headers: line breaks become spaces, commas are quoted.
        QCOMPARE(field(0, 0), QStringLiteral("Name, full"));
        QCOMPARE(field(0, 1), QStringLiteral("TPP (bit × TOPS)"));
        QCOMPARE(field(1, 0), QStringLiteral("H100 SXM5, 80GB"));
        QCOMPARE(field(2, 0), QStringLiteral("Quote \"Hopper\" here"));
        QCOMPARE(field(3, 0), QStringLiteral("Two\nlines and die area mm²"));
        // Numbers as numbers (not the grouped display text); the rest as displayed.
        QCOMPARE(field(1, 1), QStringLiteral("15830.4"));
        QCOMPARE(field(2, 1), QStringLiteral("2368"));
        QCOMPARE(field(3, 1), QStringLiteral("unknown"));
        QCOMPARE(field(4, 1), QStringLiteral("0.125"));
        QCOMPARE(field(1, 2), QStringLiteral("2022"));
        for (const auto& r : records)
            QCOMPARE(r.fields.size(), size_t(3));
        // The quoting itself, byte for byte.
        QVERIFY(bytes.contains("\"Quote \"\"Hopper\"\" here\""));
        QVERIFY(bytes.contains("\"H100 SXM5, 80GB\",15830.4,2022\r\n"));
    }

    void xlsxHoldsNumbersAsNumbers() {
        const auto model = sampleModel();
        const QString path = dir_.filePath(QStringLiteral("t.xlsx"));
        exporting::exportTable(*model, path, options());
        const QByteArray bytes = readAll(path);
        QVERIFY(bytes.startsWith("PK\x03\x04"));
        const auto parts = testing::unzipAll(bytes);
        QVERIFY2(parts, "not a well-formed zip");
        for (const char* part : {"[Content_Types].xml", "xl/workbook.xml",
                                 "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"})
            QVERIFY2(parts->contains(QString::fromLatin1(part)), part);
        const QString sheet =
            QString::fromUtf8(parts->value(QStringLiteral("xl/worksheets/sheet1.xml")));
        const QString strings =
            QString::fromUtf8(parts->value(QStringLiteral("xl/sharedStrings.xml")));
        const QString workbook = QString::fromUtf8(parts->value(QStringLiteral("xl/workbook.xml")));
        // The sheet's name, without the characters XLSX forbids.
        QVERIFY2(workbook.contains(QStringLiteral("name=\"Chips_ _test_\"")), qPrintable(workbook));

        // B2: a number cell (no type attribute), the exact value.
        const XmlCell b2 = cellXml(sheet, QStringLiteral("B2"));
        QVERIFY(b2.found);
        QVERIFY2(!b2.attributes.contains(QStringLiteral("t=")), qPrintable(b2.attributes));
        QCOMPARE(b2.content, QStringLiteral("<v>15830.4</v>"));
        QCOMPARE(cellXml(sheet, QStringLiteral("C2")).content, QStringLiteral("<v>2022</v>"));
        QCOMPARE(cellXml(sheet, QStringLiteral("B5")).content, QStringLiteral("<v>0.125</v>"));
        // B4: unknown stays text, as a shared string; so are the names.
        for (const char* ref : {"A1", "A2", "B4"}) {
            const XmlCell c = cellXml(sheet, QString::fromLatin1(ref));
            QVERIFY2(c.found && c.attributes.contains(QStringLiteral("t=\"s\"")), ref);
        }
        QVERIFY(strings.contains(QStringLiteral("H100 SXM5, 80GB")));
        QVERIFY(strings.contains(QStringLiteral("Quote &quot;Hopper&quot; here")) ||
                strings.contains(QStringLiteral("Quote \"Hopper\" here")));
        QVERIFY(strings.contains(QStringLiteral("die area mm²")));
        QVERIFY(strings.contains(QStringLiteral("unknown")));
        // The header row is bold (a style) and frozen.
        QVERIFY(
            cellXml(sheet, QStringLiteral("A1")).attributes.contains(QStringLiteral("s=\"1\"")));
        QVERIFY(sheet.contains(QStringLiteral("state=\"frozen\"")));
        // Five rows, nothing past them.
        QVERIFY(!cellXml(sheet, QStringLiteral("A6")).found);
    }

    // A proxy is exported as it shows the rows: filtered and sorted.
    void proxyOrderAndFilter() {
        const auto model = sampleModel();
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(model.get());
        proxy.setSortRole(Qt::DisplayRole);
        proxy.sort(2, Qt::DescendingOrder);
        proxy.setFilterKeyColumn(0);
        proxy.setFilterRegularExpression(QStringLiteral("^(?!Plain)"));
        const exporting::TableSnapshot table = exporting::snapshotTable(proxy, options());
        QCOMPARE(table.rows.size(), size_t(3));
        QCOMPARE(*table.rows[0][2].number, 2023.0);
        QCOMPARE(*table.rows[1][2].number, 2022.0);
        QCOMPARE(*table.rows[2][2].number, 2019.0);
    }

    void failuresNameTheFileAndKeepTheOldOne_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("message");
        QTest::newRow("extension") << "t.txt"
                                   << "must end in .csv or .xlsx";
        QTest::newRow("folder csv") << "no/such/folder/t.csv"
                                    << "cannot write";
        QTest::newRow("folder xlsx") << "no/such/folder/t.xlsx"
                                     << "cannot write";
        QTest::newRow("cell too long") << "long.xlsx"
                                       << "longer than XLSX allows";
    }
    void failuresNameTheFileAndKeepTheOldOne() {
        QFETCH(QString, name);
        QFETCH(QString, message);
        const QString path = dir_.filePath(name);
        auto model = sampleModel();
        if (name.startsWith(QLatin1String("long"))) {
            model->item(0, 0)->setText(QString(40000, QLatin1Char('x')));
            QVERIFY(writeFile(path, "the old file"));
        }
        try {
            exporting::exportTable(*model, path, options());
            QFAIL("no error");
        } catch (const TableExportError& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains(message), qPrintable(what));
            QVERIFY2(what.contains(name), qPrintable(what));
        }
        if (name.startsWith(QLatin1String("long")))
            QCOMPARE(readAll(path), QByteArray("the old file"));
        else
            QVERIFY(!QFile::exists(path));
        // Nothing is left beside the target (no temporary file in the folder).
        const QStringList left = QDir(dir_.path()).entryList(QDir::Files | QDir::Hidden);
        for (const QString& f : left)
            QVERIFY2(!f.contains(QLatin1String(".tmp")) && !f.contains(QLatin1String("XXXX")),
                     qPrintable(f));
    }

    void noColumnsIsAnError() {
        QStandardItemModel empty;
        QVERIFY_THROWS_EXCEPTION(
            TableExportError,
            exporting::exportTable(empty, dir_.filePath(QStringLiteral("e.csv"))));
    }

    // Headers only: still a valid table of each kind.
    void emptyTable() {
        QStandardItemModel model(0, 2);
        model.setHorizontalHeaderLabels({QStringLiteral("A"), QStringLiteral("B")});
        const QString csv = dir_.filePath(QStringLiteral("empty.csv"));
        exporting::exportTable(model, csv);
        QCOMPARE(readAll(csv), QByteArray("A,B\r\n"));
        const QString xlsx = dir_.filePath(QStringLiteral("empty.xlsx"));
        exporting::exportTable(model, xlsx);
        QVERIFY(testing::unzipAll(readAll(xlsx)));
    }

    // An existing file is replaced whole.
    void replacesAnExistingFile() {
        const QString path = dir_.filePath(QStringLiteral("again.csv"));
        QVERIFY(writeFile(path, QByteArray(100000, 'z')));
        const auto model = sampleModel();
        exporting::exportTable(*model, path, options());
        const QByteArray bytes = readAll(path);
        QVERIFY(bytes.startsWith("\"Name, full\""));
        QVERIFY(!bytes.contains('z'));
    }

    void numberText() {
        QCOMPARE(exporting::numberText(15830.400000000001), QStringLiteral("15830.4"));
        QCOMPARE(exporting::numberText(-0.0), QStringLiteral("0"));
        QCOMPARE(exporting::numberText(2022), QStringLiteral("2022"));
        QCOMPARE(exporting::numberText(1e-5), QStringLiteral("1e-05"));
    }
};

QTEST_GUILESS_MAIN(TestTableExport)
#include "test_table_export.moc"
