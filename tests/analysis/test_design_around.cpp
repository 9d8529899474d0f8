// Design-around search. Expected figures come from the editions' thresholds (docs/reference/
// export-rules.md: 3A090.a.1 TPP 4,800 [2023-10]; 2022-10 a.1: I/O 600 GB/s and TPP 4,800;
// 3A090.b: TPP 2,400 / PD 1.6 and 3.2; the 2025-04 letters: the H20's 4,000 GB/s memory and
// 900 GB/s NVLink) and the chips' figures (docs/reference/chips.csv: H100 SXM5 FP8 1,979 dense
// TOPS -> TPP 15,832, die 814 mm2; A100 SXM4 TF32... FP16 312 -> TPP 4,992, NVLink 600 GB/s;
// H20 4,000 GB/s HBM3, 900 GB/s NVLink). Each row says which.
#include "analysis/Classifier.h"
#include "analysis/DesignAround.h"
#include "tests/common/ReferenceData.h"

#include <nlohmann/json.hpp>

#include <QTest>

#include <cmath>

using namespace crossroads::analysis;
using namespace crossroads::testing;

namespace {

const std::vector<Edition>& editions() {
    static const std::vector<Edition> all = bundledEditions();
    return all;
}

const Edition& edition(const std::string& id) {
    const Edition* e = findEdition(editions(), id);
    if (!e)
        throw std::runtime_error("no edition " + id);
    return *e;
}

const std::vector<ChipSpec>& chips() {
    static const std::vector<ChipSpec> all = bundledChips();
    return all;
}

ChipSpec chip(const std::string& name) {
    for (const ChipSpec& c : chips())
        if (c.name == name)
            return c;
    throw std::runtime_error("no chip " + name);
}

const DesignChange* findChange(const DesignAroundResult& r, const std::string& to,
                               ChangeKind kind) {
    for (const DesignChange& c : r.changes)
        if (c.to == to && c.kind == kind)
            return &c;
    return nullptr;
}

// The chip with the change applied at `amount` (the factor, or the new figure).
ChipSpec applied(const ChipSpec& chip, ChangeKind kind, double amount) {
    ChipSpec c = chip;
    switch (kind) {
    case ChangeKind::Derate:
        for (auto& r : c.dense_tops.tops)
            if (r)
                *r *= amount;
        break;
    case ChangeKind::DieArea:
        *c.applicable_die_area_mm2 *= amount;
        break;
    case ChangeKind::Io:
        c.io_bidirectional_gb_per_s = amount;
        break;
    case ChangeKind::MemoryBandwidth:
        c.memory_bandwidth_gb_per_s = amount;
        break;
    }
    return c;
}

const char* kInterconnectFlag = "2025-04 heuristic: interconnect bandwidth at or above the H20's";
const char* kMemoryFlag = "2025-04 heuristic: memory bandwidth at or above the H20's";

} // namespace

class TestDesignAround : public QObject {
    Q_OBJECT

private slots:
    void changes_data() {
        QTest::addColumn<QString>("chip");
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("to");
        QTest::addColumn<int>("kind");
        QTest::addColumn<double>("line"); // the amount at which the line is crossed; 0: unreachable
        QTest::addColumn<QString>("paragraph"); // result paragraph; "" when unreachable

        // 3A090.a.1 (TPP >= 4,800): 4,800 / 15,832 = 0.30318; at that TPP PD is 5.90 (< 5.92),
        // TPP 4,798 in [2,400, 4,800): 3A090.b.1.
        QTest::newRow("H100 derate leaves .a")
            << "H100 SXM5 80GB"
            << "2023-10" << kOutsideA << int(ChangeKind::Derate) << 4800.0 / 15832 << "b";
        // a.1 tests TPP only: no die area leaves .a.
        QTest::newRow("H100 die area cannot leave .a")
            << "H100 SXM5 80GB"
            << "2023-10" << kOutsideA << int(ChangeKind::DieArea) << 0.0 << "";
        // Outside 3A090: TPP under 2,400 with PD under 3.2 (the H20's way): 2,400 / 15,832 =
        // 0.15159 (PD there 2.95).
        QTest::newRow("H100 derate leaves 3A090")
            << "H100 SXM5 80GB"
            << "2023-10" << kOutside3A090 << int(ChangeKind::Derate) << 2400.0 / 15832 << "none";
        // Die area alone: TPP 15,832 stays >= 4,800, so a.1 holds at any area.
        QTest::newRow("H100 die area cannot leave 3A090")
            << "H100 SXM5 80GB"
            << "2023-10" << kOutside3A090 << int(ChangeKind::DieArea) << 0.0 << "";
        // L40S (FP8 733 x 8 = TPP 5,864 on 608.5 mm2: PD 9.64) under 2023-10: below a.1's
        // 4,800 it still meets a.2 (PD >= 5.92) until f < 5.92 x 608.5 / 5,864 = 0.6143; there
        // TPP 3,602 and PD just under 5.92: 3A090.b.1.
        QTest::newRow("L40S derate leaves .a (a.2 decides)")
            << "L40S"
            << "2023-10" << kOutsideA << int(ChangeKind::Derate) << 5.92 * 608.5 / 5864 << "b";
        // 2022-10 a.1: I/O >= 600 and TPP >= 4,800. A100: I/O 600 -> below 600 (the A800's cut).
        QTest::newRow("A100 I/O cut leaves 3A090 (A800)")
            << "A100 SXM4 80GB"
            << "2022-10" << kOutside3A090 << int(ChangeKind::Io) << 600.0 << "none";
        // A100 TPP 4,992 (FP16 312 x 16): 4,800 / 4,992 = 0.96154.
        QTest::newRow("A100 derate leaves 3A090 (2022-10)")
            << "A100 SXM4 80GB"
            << "2022-10" << kOutside3A090 << int(ChangeKind::Derate) << 4800.0 / 4992 << "none";
        // The H20 under the 2025-04 letters: memory bandwidth below 4,000 GB/s, NVLink below 900.
        QTest::newRow("H20 memory bandwidth leaves the heuristic flag")
            << "H20 (China)"
            << "2025-04" << kOutsideHeuristic << int(ChangeKind::MemoryBandwidth) << 4000.0
            << "none";
        QTest::newRow("H20 I/O leaves the interconnect flag")
            << "H20 (China)"
            << "2025-04" << kOutsideHeuristic << int(ChangeKind::Io) << 900.0 << "none";
    }

    void changes() {
        QFETCH(QString, chip);
        QFETCH(QString, edition);
        QFETCH(QString, to);
        QFETCH(int, kind);
        QFETCH(double, line);
        QFETCH(QString, paragraph);
        const ChipSpec c = ::chip(chip.toStdString());
        const Edition& e = ::edition(edition.toStdString());
        const DesignAroundResult r = designAround(c, e);
        const DesignChange* change = findChange(r, to.toStdString(), ChangeKind(kind));
        QVERIFY2(change, "no such change in the result");
        if (line == 0) {
            QVERIFY(!change->reachable);
            QVERIFY(!change->factor && !change->value && !change->result_paragraph);
            QVERIFY(QString::fromStdString(change->note).startsWith("not reachable"));
            return;
        }
        QVERIFY(change->reachable);
        const bool isFactor = kind == int(ChangeKind::Derate) || kind == int(ChangeKind::DieArea);
        QCOMPARE(bool(change->factor), isFactor);
        QCOMPARE(bool(change->value), !isFactor);
        const double amount = isFactor ? *change->factor : *change->value;
        // Across the line, and within 0.1% of it: the smallest change.
        QVERIFY2(amount < line, qPrintable(QString::number(amount, 'g', 10)));
        QVERIFY2(amount > line * 0.999, qPrintable(QString::number(amount, 'g', 10)));
        QCOMPARE(QString::fromStdString(change->result_paragraph.value_or("?")), paragraph);
        // What classify() says for the changed chip is the result's.
        const ClassificationResult after = classify(applied(c, ChangeKind(kind), amount), e);
        QCOMPARE(after.paragraph, change->result_paragraph);
    }

    void theHeuristicSaysWhatStillHolds() {
        // H20 under 2025-04: both flags hold today; a memory-bandwidth cut leaves the interconnect
        // flag standing (NVLink 900 GB/s), and the reverse.
        const DesignAroundResult r = designAround(chip("H20 (China)"), edition("2025-04"));
        QCOMPARE(r.flags.size(), size_t(2));
        const DesignChange* memory = findChange(r, kOutsideHeuristic, ChangeKind::MemoryBandwidth);
        QVERIFY(memory);
        QCOMPARE(memory->remaining_flags, std::vector<std::string>{kInterconnectFlag});
        const ClassificationResult after =
            classify(applied(chip("H20 (China)"), ChangeKind::MemoryBandwidth, *memory->value),
                     edition("2025-04"));
        QCOMPARE(after.flags, std::vector<std::string>{kInterconnectFlag});
        const DesignChange* io = findChange(r, kOutsideHeuristic, ChangeKind::Io);
        QVERIFY(io);
        QCOMPARE(io->remaining_flags, std::vector<std::string>{kMemoryFlag});
        // The H20 is outside 3A090: no 3A090 line to leave.
        QVERIFY(!findChange(r, kOutside3A090, ChangeKind::Derate));
    }

    void marginsToEveryThreshold() {
        const DesignAroundResult r = designAround(chip("H100 SXM5 80GB"), edition("2023-10"));
        QVERIFY(r.paragraph == std::optional<std::string>("a"));
        // 2023-10: a.1 (1 numeric), a.2 (2), b.1 (4), b.2 (3), Note 2 (1 numeric of 2).
        QCOMPARE(r.margins.size(), size_t(11));
        const ThresholdMargin& a1 = r.margins.front();
        QCOMPARE(QString::fromStdString(a1.clause), QString("3A090.a.1"));
        QCOMPARE(QString::fromStdString(a1.metric), QString("tpp"));
        QCOMPARE(*a1.figure, 15832.0);
        QCOMPARE(a1.threshold, 4800.0);
        QVERIFY(std::fabs(*a1.margin_percent - (15832.0 - 4800) / 4800 * 100) < 1e-9);
        QVERIFY(*a1.holds);
        // The H20's TPP 2,368 sits 1.33% under b.1's 2,400 (export-rules.md borderline list).
        const DesignAroundResult h20 = designAround(chip("H20 (China)"), edition("2023-10"));
        bool seen = false;
        for (const ThresholdMargin& m : h20.margins)
            if (m.clause == "3A090.b.1" && m.metric == "tpp" && m.threshold == 2400) {
                QVERIFY(std::fabs(*m.margin_percent - (2368.0 - 2400) / 2400 * 100) < 1e-9);
                QVERIFY(!*m.holds);
                seen = true;
            }
        QVERIFY(seen);
        // A figure the chip lacks has no margin (Gaudi2: die area unknown, so no PD).
        const DesignAroundResult gaudi = designAround(chip("Gaudi2 (HL-225H)"), edition("2023-10"));
        for (const ThresholdMargin& m : gaudi.margins)
            if (m.metric == "performance_density")
                QVERIFY(!m.figure && !m.margin_percent && !m.holds);
    }

    void thresholdsComeFromTheEdition() {
        // A scenario edition that moves a.1 to TPP 4,000: the derate follows (4,000 / 15,832 =
        // 0.2527; a.2 is left first, at PD 5.92 x 814 / 15,832 = 0.3044).
        Edition scenario = edition("2023-10");
        QCOMPARE(QString::fromStdString(scenario.clauses.front().id), QString("3A090.a.1"));
        scenario.clauses.front().when.criterion.threshold = 4000.0;
        const DesignAroundResult r = designAround(chip("H100 SXM5 80GB"), scenario);
        const DesignChange* d = findChange(r, kOutsideA, ChangeKind::Derate);
        QVERIFY(d && d->factor);
        QVERIFY2(*d->factor < 4000.0 / 15832 && *d->factor > 4000.0 / 15832 * 0.999,
                 qPrintable(QString::number(*d->factor) + " " + QString::fromStdString(d->note)));
        // 2022-10 tests no PD: no die-area change is offered there.
        const DesignAroundResult a100 = designAround(chip("A100 SXM4 80GB"), edition("2022-10"));
        QVERIFY(!findChange(a100, kOutside3A090, ChangeKind::DieArea));
        QVERIFY(findChange(a100, kOutside3A090, ChangeKind::Io));
    }

    void precedents() {
        auto names = [](const DesignAroundResult& r) {
            QStringList out;
            for (const Precedent& p : r.precedents)
                out << QString::fromStdString(p.chip);
            return out;
        };
        // analysis/Precedents: H800 and H20 come from the H100 SXM5; the A800 SXM4 from the A100.
        const QStringList h100 = names(designAround(chip("H100 SXM5 80GB"), edition("2023-10")));
        QVERIFY(h100.contains("H800 SXM5 (China)"));
        QVERIFY(h100.contains("H20 (China)"));
        QVERIFY(names(designAround(chip("A100 SXM4 80GB"), edition("2022-10")))
                    .contains("A800 SXM4 80GB (China)"));
        // A derivative shows its own entry.
        QCOMPARE(names(designAround(chip("H20 (China)"), edition("2023-10"))),
                 QStringList{"H20 (China)"});
    }

    void everyBundledChipAndEditionHoldsTogether() {
        // On every pair: each reachable change crosses its line by classify(), and one step back
        // in its 4th significant digit does not (the smallest change, for lines crossed once).
        int reachable = 0, unreachable = 0;
        for (const Edition& e : editions())
            for (const ChipSpec& c : chips()) {
                const DesignAroundResult r = designAround(c, e);
                for (const DesignChange& ch : r.changes) {
                    if (!ch.reachable) {
                        ++unreachable;
                        continue;
                    }
                    ++reachable;
                    const double amount = ch.factor ? *ch.factor : *ch.value;
                    const ClassificationResult after = classify(applied(c, ch.kind, amount), e);
                    QCOMPARE(after.paragraph, ch.result_paragraph);
                    if (ch.to == kOutsideA)
                        QVERIFY(after.paragraph && *after.paragraph != "a");
                    if (ch.to == kOutside3A090)
                        QVERIFY(after.paragraph == std::optional<std::string>("none"));
                }
            }
        QVERIFY(reachable > 50);
        QVERIFY(unreachable > 10);
        qInfo("%d reachable, %d unreachable changes", reachable, unreachable);
    }

    void jsonFollowsTheContract() {
        const nlohmann::json j =
            designAroundToJson(designAround(chip("H100 SXM5 80GB"), edition("2023-10")));
        for (const char* key : {"chip", "edition", "paragraph", "margins", "changes", "precedents"})
            QVERIFY2(j.contains(key), key);
        for (const char* key : {"clause", "metric", "figure", "op", "threshold", "margin_percent"})
            QVERIFY2(j["margins"][0].contains(key), key);
        for (const auto& c : j["changes"])
            for (const char* key : {"to", "kind", "factor", "value", "result_paragraph"})
                QVERIFY2(c.contains(key), key);
        QVERIFY(j["precedents"][0].contains("chip") && j["precedents"][0].contains("note"));
        QVERIFY(j["margins"][0]["op"] == ">=");
    }

    void invalidChipIsRejected() {
        ChipSpec bad = chip("H100 SXM5 80GB");
        bad.applicable_die_area_mm2 = -1;
        try {
            designAround(bad, edition("2023-10"));
            QFAIL("no error");
        } catch (const std::invalid_argument& e) {
            QVERIFY(QString(e.what()).contains("applicable_die_area_mm2"));
        }
    }
};

QTEST_APPLESS_MAIN(TestDesignAround)
#include "test_design_around.moc"
