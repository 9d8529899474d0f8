// `crossroads chart`, `compare` and `report` as tools see them: each chart format at the requested
// size, without a display; compare's JSON contract (DESIGN.md); a report file; one-line errors
// with the DESIGN.md exit codes (2 usage, 1 runtime) for bad requests.
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QImage>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>

class TestCliChart : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    using Run = crossroads::testing::CliRun;

    Run crossroads(const QStringList& arguments, bool withoutDisplay = false) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        if (withoutDisplay)
            for (const char* name : {"QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"})
                env.remove(QLatin1String(name));
        return crossroads::testing::runCrossroads(dir_.filePath(QStringLiteral("s.sqlite")),
                                                  arguments, env);
    }

private Q_SLOTS:
    void pngAtTheRequestedSizeWithoutADisplay() {
        const QString out = dir_.filePath(QStringLiteral("tpp.png"));
        const Run r = crossroads(
            {QStringLiteral("chart"), QStringLiteral("--kind"), QStringLiteral("tpp-pd"),
             QStringLiteral("--edition"), QStringLiteral("2023-10"), QStringLiteral("--out"), out,
             QStringLiteral("--width"), QStringLiteral("900"), QStringLiteral("--height"),
             QStringLiteral("600"), QStringLiteral("--scale"), QStringLiteral("2")},
            true);
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(QImage(out).size(), QSize(1800, 1200));
        QVERIFY(r.out.contains("Wrote"));
    }

    void pdfAndSvg() {
        for (const char* kind : {"bandwidth-tpp", "timeline"}) {
            for (const char* ext : {"pdf", "svg"}) {
                const QString out = dir_.filePath(
                    QStringLiteral("%1.%2").arg(QLatin1String(kind), QLatin1String(ext)));
                const Run r = crossroads({QStringLiteral("chart"), QStringLiteral("--kind"),
                                          QLatin1String(kind), QStringLiteral("--out"), out});
                QVERIFY2(r.code == 0, r.err.constData());
                QFile f(out);
                QVERIFY(f.open(QIODevice::ReadOnly));
                const QByteArray head = f.read(64);
                QVERIFY(QLatin1String(ext) == QLatin1String("pdf") ? head.startsWith("%PDF")
                                                                   : head.contains("<?xml"));
            }
        }
    }

    void compareJson() {
        const Run r = crossroads({QStringLiteral("compare"), QStringLiteral("--baseline"),
                                  QStringLiteral("2022-10"), QStringLiteral("--vs"),
                                  QStringLiteral("2023-10"), QStringLiteral("--json")});
        QVERIFY2(r.code == 0, r.err.constData());
        const nlohmann::json j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["baseline"].get<std::string>(), std::string("2022-10"));
        bool h800 = false;
        for (const auto& c : j["changes"])
            if (c["chip"] == "H800 SXM5 (China)") {
                h800 = true;
                QCOMPARE(c["direction"].get<std::string>(), std::string("tightened"));
                QCOMPARE(c["from"]["controlled"].get<bool>(), false);
                QCOMPARE(c["to"]["paragraph"].get<std::string>(), std::string("a"));
                QVERIFY(!c["because"].empty());
            }
        QVERIFY(h800);
        const Run bad = crossroads(
            {QStringLiteral("compare"), QStringLiteral("--baseline"), QStringLiteral("2022-10")});
        QCOMPARE(bad.code, 2);
        QVERIFY(bad.err.contains("--vs ID is required"));
    }

    void reportPdf() {
        const QString out = dir_.filePath(QStringLiteral("report.pdf"));
        const Run r = crossroads({QStringLiteral("report"), QStringLiteral("--baseline"),
                                  QStringLiteral("2023-10"), QStringLiteral("--vs"),
                                  QStringLiteral("2026-01"), QStringLiteral("--out"), out},
                                 true);
        QVERIFY2(r.code == 0, r.err.constData());
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.read(8).startsWith("%PDF"));
        const Run bad = crossroads({QStringLiteral("report"), QStringLiteral("--baseline"),
                                    QStringLiteral("2023-10"), QStringLiteral("--vs"),
                                    QStringLiteral("2026-01"), QStringLiteral("--out"),
                                    dir_.filePath(QStringLiteral("r.doc"))});
        QCOMPARE(bad.code, 2);
        QVERIFY(bad.err.contains("use .pdf or .html"));
    }

    void badRequests_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        const QString png = dir_.filePath(QStringLiteral("x.png"));
        QTest::newRow("no kind") << QStringList{QStringLiteral("--out"), png} << 2
                                 << "--kind is required";
        QTest::newRow("unknown kind")
            << QStringList{QStringLiteral("--kind"), QStringLiteral("pie"), QStringLiteral("--out"),
                           png}
            << 2 << "unknown chart kind \"pie\"";
        QTest::newRow("jpg") << QStringList{QStringLiteral("--kind"), QStringLiteral("tpp-pd"),
                                            QStringLiteral("--out"),
                                            dir_.filePath(QStringLiteral("x.jpg"))}
                             << 2 << "use .png, .pdf or .svg";
        QTest::newRow("tiny") << QStringList{QStringLiteral("--kind"),  QStringLiteral("tpp-pd"),
                                             QStringLiteral("--out"),   png,
                                             QStringLiteral("--width"), QStringLiteral("20")}
                              << 2 << "outside 200..10000";
        QTest::newRow("edition") << QStringList{QStringLiteral("--kind"),
                                                QStringLiteral("tpp-pd"),
                                                QStringLiteral("--out"),
                                                png,
                                                QStringLiteral("--edition"),
                                                QStringLiteral("1999-01")}
                                 << 2 << "unknown edition \"1999-01\"";
        QTest::newRow("no folder")
            << QStringList{QStringLiteral("--kind"), QStringLiteral("tpp-pd"),
                           QStringLiteral("--out"), dir_.filePath(QStringLiteral("nowhere/x.png"))}
            << 1 << "does not exist";
        QTest::newRow("no results")
            << QStringList{QStringLiteral("--kind"), QStringLiteral("bench-history"),
                           QStringLiteral("--out"), png}
            << 1 << "no benchmark results";
    }

    void badRequests() {
        QFETCH(QStringList, arguments);
        QFETCH(int, code);
        QFETCH(QString, message);
        const Run r = crossroads(QStringList{QStringLiteral("chart")} + arguments);
        QCOMPARE(r.code, code);
        QVERIFY2(r.err.contains(message.toUtf8()), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1); // one line
        QVERIFY(!QFile::exists(dir_.filePath(QStringLiteral("x.png"))));
    }
};

QTEST_GUILESS_MAIN(TestCliChart)
#include "test_cli_chart.moc"
