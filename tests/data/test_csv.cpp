// The RFC 4180 reader/writer under the chip CSV formats: quoting, line ends, the physical line
// each record starts on (what import errors point at), and write-then-read identity.
#include "data/Csv.h"

#include <QTest>

using namespace crossroads::data;

Q_DECLARE_METATYPE(std::string)

namespace {

// "line:field|field;line:field" for compact expectations.
QString describe(const std::vector<CsvRecord>& records) {
    QStringList parts;
    for (const auto& r : records) {
        QStringList fields;
        for (const auto& f : r.fields)
            fields << QString::fromStdString(f);
        parts << QString::number(r.line) + QLatin1Char(':') + fields.join(QLatin1Char('|'));
    }
    return parts.join(QLatin1Char(';'));
}

} // namespace

class TestCsv : public QObject {
    Q_OBJECT
private slots:
    void parses_data() {
        QTest::addColumn<std::string>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain LF") << std::string("a,b\n1,2\n") << "1:a|b;2:1|2";
        QTest::newRow("CRLF") << std::string("a,b\r\n1,2\r\n") << "1:a|b;2:1|2";
        QTest::newRow("no final line end") << std::string("a,b\n1,2") << "1:a|b;2:1|2";
        QTest::newRow("final CR") << std::string("a,b\r") << "1:a|b";
        QTest::newRow("empty cells") << std::string("a,,c\n,,\n") << "1:a||c;2:||";
        QTest::newRow("quoted comma") << std::string("\"a,b\",c\n") << "1:a,b|c";
        QTest::newRow("doubled quote") << std::string("\"say \"\"hi\"\"\",x\n") << "1:say \"hi\"|x";
        QTest::newRow("embedded newline moves lines")
            << std::string("h\n\"one\ntwo\nthree\"\nnext\n") << "1:h;2:one\ntwo\nthree;5:next";
        QTest::newRow("embedded CRLF kept")
            << std::string("\"a\r\nb\",c\r\nd,e\r\n") << "1:a\r\nb|c;3:d|e";
        QTest::newRow("blank lines skipped") << std::string("a\n\n\nb\n") << "1:a;4:b";
        QTest::newRow("empty quoted field is a record") << std::string("\"\"\n") << "1:";
        QTest::newRow("BOM") << std::string("\xEF\xBB\xBFname,x\n") << "1:name|x";
        QTest::newRow("lone CR is data") << std::string("a\rb,c\n") << "1:a\rb|c";
        QTest::newRow("empty input") << std::string() << "";
    }
    void parses() {
        QFETCH(std::string, text);
        QFETCH(QString, expected);
        QCOMPARE(describe(parseCsv(text)), expected);
    }

    void errors_data() {
        QTest::addColumn<std::string>("text");
        QTest::addColumn<QString>("message");
        QTest::newRow("never closed")
            << std::string("a,b\n1,\"open\n\nstill open") << "line 2: quoted field is never closed";
        QTest::newRow("quote inside unquoted field")
            << std::string("a,b\n1,2\nx\"y,3\n")
            << "line 3: a quote inside an unquoted field (quote the whole field and double the "
               "quote)";
        QTest::newRow("text after closing quote")
            << std::string("\"a\nb\"c,d\n") << "line 2: unexpected text after a closing quote";
    }
    void errors() {
        QFETCH(std::string, text);
        QFETCH(QString, message);
        try {
            parseCsv(text);
            QFAIL("no error");
        } catch (const CsvError& e) {
            QCOMPARE(QString::fromStdString(e.what()), message);
        }
    }

    void writesWhatItReads_data() {
        QTest::addColumn<std::string>("value");
        QTest::newRow("plain") << std::string("H100 SXM5");
        QTest::newRow("comma") << std::string("a, b");
        QTest::newRow("quote") << std::string("5\" wafer");
        QTest::newRow("newlines") << std::string("one\ntwo\r\nthree\r");
        QTest::newRow("edge spaces") << std::string("  padded ");
        QTest::newRow("empty") << std::string();
        QTest::newRow("unicode") << std::string("Ascend 910B — 华为");
        QTest::newRow("json") << std::string("[{\"field\":\"*\",\"citation\":\"a, \\\"b\\\"\"}]");
    }
    void writesWhatItReads() {
        QFETCH(std::string, value);
        const std::string text = csvLine({"k", "v"}) + csvLine({value, value});
        const auto records = parseCsv(text);
        QCOMPARE(records.size(), size_t(2));
        QCOMPARE(records[1].fields, (std::vector<std::string>{value, value}));
    }

    void quotesOnlyWhenNeeded() {
        QCOMPARE(csvField("plain"), std::string("plain"));
        QCOMPARE(csvField("a,b"), std::string("\"a,b\""));
        QCOMPARE(csvField("x\"y"), std::string("\"x\"\"y\""));
        QCOMPARE(csvLine({"a", "", "c"}), std::string("a,,c\r\n"));
    }
};

QTEST_GUILESS_MAIN(TestCsv)
#include "test_csv.moc"
