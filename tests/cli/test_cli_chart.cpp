// `crossroads chart`, `compare` and `report` as tools see them: each chart format at the requested
// size, without a display; compare's JSON contract (DESIGN.md); a report file; one-line errors
// with the DESIGN.md exit codes (2 usage, 1 runtime) for bad requests.
#include "data/Store.h"
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QImage>
#include <QProcessEnvironment>
#include <QRegularExpression>
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

    // The words an SVG chart writes, tags as spaces: a phrase wrapped over two lines still reads.
    static QString svgWords(const QString& path) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            return QString();
        QString text = QString::fromUtf8(f.readAll());
        text.replace(QRegularExpression(QStringLiteral("<[^>]*>")), QStringLiteral(" "));
        return text.simplified();
    }

private Q_SLOTS:
    void capabilityOverlaysTheStoredMeasurement() {
        // A CUDA run on an H200 saved as `crossroads bench` saves it: the capability chart
        // overlays it (legend and note); a store without results says it has none.
        const QString measured = dir_.filePath(QStringLiteral("measured.sqlite"));
        {
            crossroads::data::Store store(measured);
            store.saveBenchmarkResult(QStringLiteral("NVIDIA H200"), QStringLiteral("cuda"),
                                      QStringLiteral("preset:deepseek-v3?layers=2"),
                                      QStringLiteral("fp8"),
                                      R"({"model": "preset:deepseek-v3?layers=2", "backend": "cuda",
                    "device": "NVIDIA H200", "dtype": "fp8",
                    "spec": {"bandwidth_gb_per_s": 4800.0, "chip": "H200 SXM 141GB"},
                    "phases": [{"phase": "decode", "tokens_per_s": 50.0,
                                "achieved_gb_per_s": 3120.0}]})");
        }
        const QString svg = dir_.filePath(QStringLiteral("capability.svg"));
        const QString png = dir_.filePath(QStringLiteral("capability.png"));
        for (const QString& out : {svg, png}) {
            const Run r = crossroads::testing::runCrossroads(
                measured, {QStringLiteral("chart"), QStringLiteral("--kind"),
                           QStringLiteral("capability"), QStringLiteral("--edition"),
                           QStringLiteral("2026-01"), QStringLiteral("--out"), out});
            QVERIFY2(r.code == 0, r.err.constData());
        }
        QCOMPARE(QImage(png).size(), QSize(1600, 1000));
        const QString words = svgWords(svg);
        for (const char* phrase :
             {"measured on NVIDIA H200 (", "H200 SXM 141GB calibrated:", "(65% of roofline)",
              "calibrated DeepSeek-V3 decode = projected", "the decode phase achieved 3,120 GB/s",
              "H20 (China)", "H100 SXM5 80GB"})
            QVERIFY2(words.contains(QLatin1String(phrase)), phrase);
        QVERIFY(!words.contains(QLatin1String("No local measurement")));

        const QString none = dir_.filePath(QStringLiteral("capability-none.svg"));
        const Run r = crossroads({QStringLiteral("chart"), QStringLiteral("--kind"),
                                  QStringLiteral("capability"), QStringLiteral("--out"), none});
        QVERIFY2(r.code == 0, r.err.constData());
        const QString bare = svgWords(none);
        QVERIFY(bare.contains(QLatin1String("No local measurement in the store")));
        QVERIFY(!bare.contains(QLatin1String("measured on")));
    }

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
