// The classifier against the public cases of docs/reference (chips.csv and export-rules.md):
// every reference row under 2022-10 and 2023-10, each clause at its threshold, Note 2, the 2022
// I/O AND, the strict > of 3A090.c, borderline, flags, and the outcomes the issue names.
#include "analysis/Classifier.h"
#include "tests/common/ReferenceData.h"

#include <nlohmann/json.hpp>

#include <QTest>

#include <set>

#include <algorithm>

using namespace crossroads::analysis;
using namespace crossroads::testing;

Q_DECLARE_METATYPE(std::vector<std::string>)

namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

QString join(const std::vector<std::string>& list) {
    QStringList out;
    for (const auto& s : list)
        out << QString::fromStdString(s);
    return out.join(QStringLiteral(", "));
}

ChipSpec logicChip(double fp16_tflops, std::optional<double> die_mm2, std::optional<bool> dc = true,
                   std::optional<double> io = std::nullopt) {
    ChipSpec c;
    c.name = "test chip";
    c.vendor = "test";
    c.datacenter = dc;
    c.dense_tops[Precision::Fp16] = fp16_tflops;
    c.applicable_die_area_mm2 = die_mm2;
    c.io_bidirectional_gb_per_s = io;
    return c;
}

} // namespace

class TestClassifier : public QObject {
    Q_OBJECT

    std::vector<Edition> editions_;
    std::vector<ChipSpec> chips_;

    const Edition& edition(const char* id) {
        const Edition* e = findEdition(editions_, id);
        if (!e)
            qFatal("edition %s missing", id);
        return *e;
    }
    const ChipSpec& chip(const QString& name) {
        for (const ChipSpec& c : chips_)
            if (QString::fromStdString(c.name) == name)
                return c;
        qFatal("chip %s missing from the seed", qPrintable(name));
    }

private slots:
    void initTestCase() {
        editions_ = bundledEditions();
        chips_ = bundledChips();
        QCOMPARE(editions_.size(), size_t(6));
        QCOMPARE(chips_.size(), size_t(49));
    }

    // Every row of the reference table, under 2022-10 and 2023-10: the class the file gives is
    // among `classes`; "not 3A090" is not controlled; "needs ..." / "unknown" is undetermined.
    void referenceRows_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<double>("tppComputed");
        // Chips whose figures the audit corrected (data/seed/tools/chips_audit.json, each with its
        // source) no longer match the table's computed columns: auditedChips() holds them.
        std::set<QString> audited;
        const nlohmann::json audit = nlohmann::json::parse(
            readText(sourcePath(QStringLiteral("data/seed/tools/chips_audit.json"))));
        for (const nlohmann::json& fix : audit["corrections"])
            if (fix.contains("set"))
                audited.insert(QString::fromStdString(fix["name"].get<std::string>()));
        QVERIFY(audited.size() >= 5);
        for (const auto& row : readCsv(sourcePath(QStringLiteral("docs/reference/chips.csv")))) {
            const QString name = row.at(QStringLiteral("model"));
            if (audited.count(name))
                continue;
            const double tpp = row.at(QStringLiteral("tpp_computed")).toDouble();
            QTest::addRow("%s @2022-10", qPrintable(name))
                << name << QStringLiteral("2022-10")
                << row.at(QStringLiteral("class_2022_computed")) << tpp;
            QTest::addRow("%s @2023-10", qPrintable(name))
                << name << QStringLiteral("2023-10")
                << row.at(QStringLiteral("class_2023_computed")) << tpp;
        }
    }
    void referenceRows() {
        QFETCH(QString, name);
        QFETCH(QString, edition);
        QFETCH(QString, expected);
        QFETCH(double, tppComputed);
        const ClassificationResult r =
            classify(chip(name), this->edition(edition.toUtf8().constData()));
        const QString got = QStringLiteral("classes [%1] controlled %2 undetermined [%3]")
                                .arg(join(r.classes))
                                .arg(r.controlled ? (*r.controlled ? "true" : "false") : "null")
                                .arg(join(r.undetermined));
        if (tppComputed > 0) { // the table's own TPP arithmetic agrees with ours within 0.2%
            QVERIFY2(r.tpp, "no TPP computed");
            QVERIFY2(
                std::abs(r.tpp->tpp - tppComputed) <= 0.002 * tppComputed,
                qPrintable(QStringLiteral("TPP %1 vs table %2").arg(r.tpp->tpp).arg(tppComputed)));
        }
        if (expected.startsWith(QLatin1String("3A090."))) {
            // "3A090.a" in the 2022 column is 3A090.a.1, the only .a clause of 2022.
            QString clause = expected.section(QLatin1Char(' '), 0, 0);
            if (clause == QLatin1String("3A090.a"))
                clause = QStringLiteral("3A090.a.1");
            QVERIFY2(contains(r.classes, clause.toStdString()),
                     qPrintable(QStringLiteral("expected %1, got %2").arg(clause, got)));
            QCOMPARE(r.controlled, std::optional<bool>(true));
            if (expected.contains(QLatin1String("NAC/ACA"))) {
                QVERIFY(contains(r.license_exceptions, "NAC"));
                QVERIFY(contains(r.license_exceptions, "ACA"));
            }
        } else if (expected.startsWith(QLatin1String("not 3A090"))) {
            QVERIFY2(r.controlled == std::optional<bool>(false), qPrintable(got));
            QVERIFY(r.classes.empty());
        } else if (expected.startsWith(QLatin1String("needs "))) {
            QVERIFY2(!r.controlled, qPrintable(got));
            const std::string field = expected.contains(QLatin1String("die area"))
                                          ? "applicable_die_area_mm2"
                                          : "io_bidirectional_gb_per_s";
            QVERIFY2(contains(r.undetermined, field), qPrintable(got));
        } else {
            QCOMPARE(expected, QStringLiteral("unknown"));
            QVERIFY2(!r.controlled, qPrintable(got));
            QVERIFY(contains(r.undetermined, "dense_tops"));
        }
        QVERIFY(!r.explanation.empty() || !r.controlled);
    }

    // Each clause at its threshold: equal, just below, just above (inclusive >=, exclusive <).
    // Rows give TPP and die area. Where PD sits on a threshold the die area is a power of two,
    // so TPP / die gives back the threshold exactly.
    void thresholds_data() {
        QTest::addColumn<double>("tpp");
        QTest::addColumn<double>("die");
        QTest::addColumn<QString>("expected"); // comma-separated classes, "" = none
        const double e = 1e-9;
        auto atPd = [](double pd, double die) { return pd * die; };
        // 3A090.a.1: TPP >= 4800 (PD 1, below every PD bound)
        QTest::newRow("a.1 TPP equal") << 4800.0 << 4800.0 << "3A090.a.1";
        QTest::newRow("a.1 TPP below") << 4800.0 - e << 4800.0 << "";
        QTest::newRow("a.1 TPP above") << 4800.0 + e << 4800.0 << "3A090.a.1";
        // 3A090.a.2: TPP >= 1600 and PD >= 5.92
        QTest::newRow("a.2 TPP equal") << 1600.0 << 1600.0 / 6 << "3A090.a.2";
        QTest::newRow("a.2 TPP below") << 1600.0 - e << 1600.0 / 6 << "";
        QTest::newRow("a.2 PD equal") << atPd(5.92, 512) << 512.0 << "3A090.a.2";
        QTest::newRow("a.2 PD below") << atPd(5.92 - e, 512) << 512.0 << "3A090.b.1,3A090.b.2";
        QTest::newRow("a.2 PD above") << atPd(5.92 + e, 512) << 512.0 << "3A090.a.2";
        // 3A090.b.1: 2400 <= TPP < 4800 and 1.6 <= PD < 5.92
        QTest::newRow("b.1 TPP equal") << 2400.0 << 1200.0 << "3A090.b.1";
        QTest::newRow("b.1 TPP below") << 2400.0 - e << 1200.0 << "";
        QTest::newRow("b.1 TPP above") << 2400.0 + e << 1200.0 << "3A090.b.1";
        QTest::newRow("b.1 TPP upper bound") << 4800.0 - e << 2400.0 << "3A090.b.1";
        QTest::newRow("b.1 PD equal") << atPd(1.6, 2048) << 2048.0 << "3A090.b.1";
        QTest::newRow("b.1 PD below") << atPd(1.6 - e, 2048) << 2048.0 << "";
        QTest::newRow("b.1 PD above") << atPd(1.6 + e, 2048) << 2048.0 << "3A090.b.1";
        // 3A090.b.2: TPP >= 1600 and 3.2 <= PD < 5.92
        QTest::newRow("b.2 PD equal") << atPd(3.2, 512) << 512.0 << "3A090.b.2";
        QTest::newRow("b.2 PD below") << atPd(3.2 - e, 512) << 512.0 << "";
        QTest::newRow("b.2 PD above") << atPd(3.2 + e, 512) << 512.0 << "3A090.b.2";
        QTest::newRow("b.2 TPP below") << 1600.0 - e << 400.0 << "";
        QTest::newRow(".a hides .b") << 4800.0 << 1200.0 << "3A090.a.1";
        QTest::newRow("a.1 and a.2") << 6000.0 << 1000.0 << "3A090.a.1,3A090.a.2";
    }
    void thresholds() {
        QFETCH(double, tpp);
        QFETCH(double, die);
        QFETCH(QString, expected);
        const ChipSpec c = logicChip(tpp / 16.0, die);
        for (const char* id : {"2023-10", "2024-12", "2026-01"}) {
            const ClassificationResult r = classify(c, edition(id));
            QCOMPARE(join(r.classes).remove(QLatin1Char(' ')), expected);
            QCOMPARE(r.controlled, std::optional<bool>(!expected.isEmpty()));
        }
    }

    void note2_data() {
        QTest::addColumn<double>("tpp");
        QTest::addColumn<int>("datacenter"); // 1 yes, 0 no, -1 unknown
        QTest::addColumn<int>("controlled"); // 1 yes, 0 no, -1 undetermined
        QTest::newRow("non-DC below 4800: out") << 4799.0 << 0 << 0;
        QTest::newRow("non-DC at 4800: a.1") << 4800.0 << 0 << 1;
        QTest::newRow("DC below 4800 with PD: b.2") << 4799.0 << 1 << 1;
        QTest::newRow("unknown DC below 4800: undetermined") << 4799.0 << -1 << -1;
        QTest::newRow("unknown DC at 4800: a.1") << 4800.0 << -1 << 1;
    }
    void note2() {
        QFETCH(double, tpp);
        QFETCH(int, datacenter);
        QFETCH(int, controlled);
        ChipSpec c = logicChip(tpp / 16.0, tpp / 4.0); // PD 4: 3A090.b.2 unless Note 2
        c.datacenter = datacenter < 0 ? std::nullopt : std::optional<bool>(datacenter == 1);
        const ClassificationResult r = classify(c, edition("2023-10"));
        QCOMPARE(r.controlled,
                 controlled < 0 ? std::nullopt : std::optional<bool>(controlled == 1));
        if (controlled == 0) {
            QVERIFY(r.classes.empty());
            QVERIFY(std::any_of(r.explanation.begin(), r.explanation.end(), [](const auto& l) {
                return l.find("Note 2 to 3A090") != std::string::npos;
            }));
        }
        if (controlled < 0)
            QVERIFY(contains(r.undetermined, "datacenter"));
    }

    // 2022-10: I/O >= 600 AND TPP >= 4800; both must hold; unknown I/O only matters when the
    // TPP criterion holds.
    void io2022_data() {
        QTest::addColumn<double>("tpp");
        QTest::addColumn<double>("io"); // < 0: unknown
        QTest::addColumn<int>("controlled");
        QTest::newRow("both hold") << 4800.0 << 600.0 << 1;
        QTest::newRow("I/O 400 (A800, H800)") << 15832.0 << 400.0 << 0;
        QTest::newRow("I/O just below") << 15832.0 << 599.999 << 0;
        QTest::newRow("TPP just below") << 4799.0 << 900.0 << 0;
        QTest::newRow("I/O unknown, TPP high") << 15832.0 << -1.0 << -1;
        QTest::newRow("I/O unknown, TPP low") << 4096.0 << -1.0 << 0;
    }
    void io2022() {
        QFETCH(double, tpp);
        QFETCH(double, io);
        QFETCH(int, controlled);
        ChipSpec c = logicChip(tpp / 16.0, 800.0, true, io < 0 ? std::nullopt : std::optional(io));
        const ClassificationResult r = classify(c, edition("2022-10"));
        QCOMPARE(r.controlled,
                 controlled < 0 ? std::nullopt : std::optional<bool>(controlled == 1));
        if (controlled < 0)
            QCOMPARE(r.undetermined, std::vector<std::string>{"io_bidirectional_gb_per_s"});
    }

    // 3A090.c: memory bandwidth density strictly greater than 2 GB/s/mm2; exception HBM < 3.3.
    void hbm_data() {
        QTest::addColumn<double>("density");
        QTest::addColumn<bool>("controlled");
        QTest::addColumn<bool>("exceptionHbm");
        QTest::newRow("equal 2: not .c") << 2.0 << false << false;
        QTest::newRow("just above 2") << 2.0 + 1e-9 << true << true;
        QTest::newRow("3.29") << 3.29 << true << true;
        QTest::newRow("3.3: no exception") << 3.3 << true << false;
    }
    void hbm() {
        QFETCH(double, density);
        QFETCH(bool, controlled);
        QFETCH(bool, exceptionHbm);
        ChipSpec stack;
        stack.name = "HBM stack";
        stack.vendor = "test";
        stack.kind = ChipKind::Hbm;
        stack.package_area_mm2 = 100.0;
        stack.memory_bandwidth_gb_per_s = density * 100.0;
        const ClassificationResult r = classify(stack, edition("2024-12"));
        QCOMPARE(r.controlled, std::optional<bool>(controlled));
        QCOMPARE(contains(r.classes, "3A090.c"), controlled);
        QCOMPARE(contains(r.license_exceptions, "HBM"), exceptionHbm);
        // Before 2024-12 there is no 3A090.c.
        QCOMPARE(classify(stack, edition("2023-10")).controlled, std::optional<bool>(false));
    }

    void borderline_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("borderline");
        QTest::newRow("L20 (PD 3.14 vs 3.2)") << "L20 (China)" << true;
        QTest::newRow("A10 (PD 3.18)") << "A10" << true;
        QTest::newRow("H20 (TPP 2,368 vs 2,400)") << "H20 (China)" << true;
        QTest::newRow("A100 (TPP 4,992)") << "A100 SXM4 80GB" << false;
        QTest::newRow("H100") << "H100 SXM5 80GB" << false;
        QTest::newRow("RTX 4090D (TPP 4,708 under Note 2)") << "GeForce RTX 4090D (China)" << true;
    }
    void borderline() {
        QFETCH(QString, name);
        QFETCH(bool, borderline);
        for (const char* id : {"2023-10", "2026-01"}) {
            const ClassificationResult r = classify(chip(name), edition(id));
            QVERIFY2(r.borderline == borderline, qPrintable(join(r.borderline_reasons)));
        }
    }

    // Borderline includes the flags: MI300X and MI325X (TPP 20,919) sit 0.4% under the 21,000
    // line of the 2026-01 policy (issue 9); their paragraph does not move.
    void borderlineIncludesFlags_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("edition");
        QTest::addColumn<bool>("borderline");
        QTest::newRow("MI300X 2026-01") << "Instinct MI300X"
                                        << "2026-01" << true;
        QTest::newRow("MI325X 2026-01") << "Instinct MI325X"
                                        << "2026-01" << true;
        QTest::newRow("MI300X 2023-10 (no flag)") << "Instinct MI300X"
                                                  << "2023-10" << false;
        QTest::newRow("H200 2026-01 (TPP 15,832)") << "H200 SXM 141GB"
                                                   << "2026-01" << false;
    }
    void borderlineIncludesFlags() {
        QFETCH(QString, name);
        QFETCH(QString, edition);
        QFETCH(bool, borderline);
        const ClassificationResult r =
            classify(chip(name), this->edition(edition.toUtf8().constData()));
        QVERIFY2(r.borderline == borderline, qPrintable(join(r.borderline_reasons)));
        if (borderline)
            QVERIFY2(
                join(r.borderline_reasons)
                    .contains(QStringLiteral("loses \"2026-01: case-by-case review for China\"")),
                qPrintable(join(r.borderline_reasons)));
    }

    // The chip data audit of issue 9 (data/seed/tools/chips_audit.json): the sourced figures
    // decide these outcomes.
    void auditedChips_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("classes");
        QTest::addColumn<double>("tpp");
        // AWS: 667 TFLOPS for BF16/FP16/TF32, TF32 counted as 32 bits -> 21,344.
        QTest::newRow("Trainium2 TPP") << "Trainium2"
                                       << "2023-10"
                                       << "3A090.a.1" << 21344.0;
        // NeuronLink 1.28 TB/s >= 600: 3A090.a.1 under 2022-10 (was undetermined).
        QTest::newRow("Trainium2 2022") << "Trainium2"
                                        << "2022-10"
                                        << "3A090.a.1" << 21344.0;
        // Google Cloud: v6e 800 GB/s (stored 448 before: outside), v5p 1,200 GB/s.
        QTest::newRow("TPU v6e 2022") << "TPU v6e (Trillium)"
                                      << "2022-10"
                                      << "3A090.a.1" << 14688.0;
        QTest::newRow("TPU v5p 2022") << "TPU v5p"
                                      << "2022-10"
                                      << "3A090.a.1" << 7344.0;
        // One Aldebaran die (724 mm2): PD 4.0 -> .b (SemiAnalysis: 3A090.b).
        QTest::newRow("MI210 2023") << "Instinct MI210"
                                    << "2023-10"
                                    << "3A090.b.1,3A090.b.2" << 2896.0;
        // Compute die 456 mm2: PD 8.98 -> a.2 (TPP 4,096 < 4,800).
        QTest::newRow("Ascend 910 2023") << "Ascend 910 (orig.)"
                                         << "2023-10"
                                         << "3A090.a.2" << 4096.0;
    }
    void auditedChips() {
        QFETCH(QString, name);
        QFETCH(QString, edition);
        QFETCH(QString, classes);
        QFETCH(double, tpp);
        const ClassificationResult r =
            classify(chip(name), this->edition(edition.toUtf8().constData()));
        QCOMPARE(join(r.classes).remove(QLatin1Char(' ')), classes);
        QVERIFY(r.tppValue());
        QCOMPARE(*r.tppValue(), tpp);
    }

    // The public outcomes the foundation issue names.
    void publicOutcomes_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("classes");
        QTest::addColumn<QString>("exceptions");
        QTest::newRow("H100 2022") << "H100 SXM5 80GB"
                                   << "2022-10"
                                   << "3A090.a.1"
                                   << "";
        QTest::newRow("H100 2023") << "H100 SXM5 80GB"
                                   << "2023-10"
                                   << "3A090.a.1,3A090.a.2"
                                   << "";
        QTest::newRow("A100 2022") << "A100 SXM4 80GB"
                                   << "2022-10"
                                   << "3A090.a.1"
                                   << "";
        QTest::newRow("A100 2023") << "A100 SXM4 80GB"
                                   << "2023-10"
                                   << "3A090.a.1,3A090.a.2"
                                   << "";
        QTest::newRow("A800 2022") << "A800 SXM4 80GB (China)"
                                   << "2022-10"
                                   << ""
                                   << "";
        QTest::newRow("A800 2023") << "A800 SXM4 80GB (China)"
                                   << "2023-10"
                                   << "3A090.a.1,3A090.a.2"
                                   << "";
        QTest::newRow("H800 2022") << "H800 SXM5 (China)"
                                   << "2022-10"
                                   << ""
                                   << "";
        QTest::newRow("H800 2023") << "H800 SXM5 (China)"
                                   << "2023-10"
                                   << "3A090.a.1,3A090.a.2"
                                   << "";
        QTest::newRow("H20 2023") << "H20 (China)"
                                  << "2023-10"
                                  << ""
                                  << "";
        QTest::newRow("L20 2023") << "L20 (China)"
                                  << "2023-10"
                                  << ""
                                  << "";
        QTest::newRow("L40 2023") << "L40"
                                  << "2023-10"
                                  << "3A090.b.1,3A090.b.2"
                                  << "NAC,ACA";
        QTest::newRow("RTX 4090 2023") << "GeForce RTX 4090"
                                       << "2023-10"
                                       << "3A090.a.1,3A090.a.2"
                                       << "NAC,ACA";
        QTest::newRow("RTX 4090D 2023") << "GeForce RTX 4090D (China)"
                                        << "2023-10"
                                        << ""
                                        << "";
        QTest::newRow("H100 2026") << "H100 SXM5 80GB"
                                   << "2026-01"
                                   << "3A090.a.1,3A090.a.2"
                                   << "";
    }
    void publicOutcomes() {
        QFETCH(QString, name);
        QFETCH(QString, edition);
        QFETCH(QString, classes);
        QFETCH(QString, exceptions);
        const ClassificationResult r =
            classify(chip(name), this->edition(edition.toUtf8().constData()));
        QCOMPARE(join(r.classes).remove(QLatin1Char(' ')), classes);
        QCOMPARE(join(r.license_exceptions).remove(QLatin1Char(' ')), exceptions);
        QCOMPARE(r.controlled, std::optional<bool>(!classes.isEmpty()));
    }

    void explanationLines() {
        const ClassificationResult h100 = classify(chip("H100 SXM5 80GB"), edition("2023-10"));
        QVERIFY(contains(h100.explanation, "TPP 15,832 >= 4,800: 3A090.a.1, 88 FR 73458"));
        QVERIFY(contains(h100.explanation, "PD 19.45 >= 5.92: 3A090.a.2, 88 FR 73458"));
        const ClassificationResult h20 = classify(chip("H20 (China)"), edition("2023-10"));
        QVERIFY(contains(h20.explanation, "TPP 2,368 < 2,400: not 3A090.b.1, 88 FR 73458"));
        QVERIFY(contains(h20.explanation, "PD 2.91 < 3.2: not 3A090.b.2, 88 FR 73458"));
        const ClassificationResult h800 = classify(chip("H800 SXM5 (China)"), edition("2022-10"));
        QVERIFY(contains(h800.explanation, "I/O 400 GB/s < 600 GB/s: not 3A090.a.1, 87 FR 62186"));
        // A figure next to its threshold keeps enough decimals to differ from it.
        ChipSpec close = logicChip(1600.0 / 16.0, 1600.0 / 3.1998);
        const ClassificationResult r = classify(close, edition("2023-10"));
        QVERIFY2(
            std::none_of(r.explanation.begin(), r.explanation.end(),
                         [](const auto& l) { return l.find("3.2 < 3.2") != std::string::npos; }),
            qPrintable(join(r.explanation)));
    }

    void flags() {
        const auto flagged = [&](const char* name, const char* id, const char* text) {
            return contains(classify(chip(QString::fromLatin1(name)), edition(id)).flags, text);
        };
        const char* caseByCase = "2026-01: case-by-case review for China";
        QVERIFY(flagged("H200 SXM 141GB", "2026-01", caseByCase));
        QVERIFY(flagged("Instinct MI325X", "2026-01", caseByCase));
        QVERIFY(!flagged("B200", "2026-01", caseByCase));        // TPP 36,000
        QVERIFY(!flagged("H20 (China)", "2026-01", caseByCase)); // not controlled at all
        QVERIFY(!flagged("H200 SXM 141GB", "2023-10", caseByCase));
        const char* h20Bandwidth = "2025-04 heuristic: memory bandwidth at or above the H20's";
        QVERIFY(flagged("H20 (China)", "2025-04", h20Bandwidth));
        QVERIFY(!flagged("H20 (China)", "2024-12", h20Bandwidth));
        // Heuristics never become clauses.
        const ClassificationResult h20 = classify(chip("H20 (China)"), edition("2025-04"));
        QVERIFY(h20.classes.empty());
        QCOMPARE(h20.controlled, std::optional<bool>(false));
    }

    void tppReportedGap() {
        const ClassificationResult gaudi3 = classify(chip("Gaudi3 (HL-325L)"), edition("2023-10"));
        QVERIFY(gaudi3.tpp_gap_percent && *gaudi3.tpp_gap_percent > 9.0);
        QVERIFY(std::any_of(gaudi3.remarks.begin(), gaudi3.remarks.end(), [](const auto& l) {
            return l.find("differs from the reported 26,848") != std::string::npos;
        }));
        const ClassificationResult h100 = classify(chip("H100 SXM5 80GB"), edition("2023-10"));
        QVERIFY(std::none_of(h100.remarks.begin(), h100.remarks.end(),
                             [](const auto& l) { return l.find("differs") != std::string::npos; }));
    }

    void resultJsonFollowsTheContract() {
        // MLU370-X8 (TPP 2,048, no die area): 3A090.b.2 turns on its PD. (The MI210 served here
        // until its die area was sourced: issue 9's chip audit.)
        const nlohmann::json j =
            resultToJson(classify(chip(QStringLiteral("MLU370-X8")), edition("2023-10")));
        for (const char* key :
             {"name", "tpp", "tpp_reported", "performance_density", "classes", "controlled",
              "undetermined", "borderline", "license_exceptions", "flags", "explanation"})
            QVERIFY2(j.contains(key), key);
        QVERIFY(j["controlled"].is_null());
        QVERIFY(j["performance_density"].is_null());
        QVERIFY(j["tpp_reported"] == 2048);
        QVERIFY(j["undetermined"] == nlohmann::json::array({"applicable_die_area_mm2"}));
    }
};

QTEST_APPLESS_MAIN(TestClassifier)
#include "test_classifier.moc"
