// Two editions side by side (DESIGN.md `compare`): direction of each change and the lines that
// explain it, from the public cases of docs/reference/export-rules.md.
#include "analysis/Compare.h"
#include "tests/common/ReferenceData.h"

#include <nlohmann/json.hpp>

#include <QTest>

using namespace crossroads;
using analysis::ChangeDirection;

namespace {

const analysis::ChipChange* changeOf(const analysis::EditionComparison& c, const char* chip) {
    for (const analysis::ChipChange& ch : c.changes)
        if (ch.chip == chip)
            return &ch;
    return nullptr;
}

analysis::EditionComparison compare(const char* a, const char* b) {
    const auto editions = testing::bundledEditions();
    return analysis::compareEditions(testing::bundledChips(), *analysis::findEdition(editions, a),
                                     *analysis::findEdition(editions, b));
}

} // namespace

class TestCompare : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void directions_data() {
        QTest::addColumn<QString>("baseline");
        QTest::addColumn<QString>("vs");
        QTest::addColumn<QString>("chip");
        QTest::addColumn<int>("direction"); // -1: unchanged
        // 87 FR 62186 -> 88 FR 73458: the A800/H800 I/O cut stops working (NVIDIA 8-K
        // 2023-10-17 names them), the H100 gains 3A090.a.2, the A40 enters 3A090.b.
        QTest::newRow("A800 2022->2023")
            << "2022-10"
            << "2023-10"
            << "A800 SXM4 80GB (China)" << int(ChangeDirection::Tightened);
        QTest::newRow("H800 2022->2023") << "2022-10"
                                         << "2023-10"
                                         << "H800 SXM5 (China)" << int(ChangeDirection::Tightened);
        QTest::newRow("H100 2022->2023") << "2022-10"
                                         << "2023-10"
                                         << "H100 SXM5 80GB" << int(ChangeDirection::Changed);
        QTest::newRow("A40 2022->2023") << "2022-10"
                                        << "2023-10"
                                        << "A40" << int(ChangeDirection::Tightened);
        QTest::newRow("A800 2023->2022")
            << "2023-10"
            << "2022-10"
            << "A800 SXM4 80GB (China)" << int(ChangeDirection::Loosened);
        // The H20 was designed to stay outside 2023-10 and stays outside every later clause.
        QTest::newRow("H20 2023->2026") << "2023-10"
                                        << "2026-01"
                                        << "H20 (China)" << -1;
        QTest::newRow("T4 2022->2023") << "2022-10"
                                       << "2023-10"
                                       << "T4" << -1;
    }

    void directions() {
        QFETCH(QString, baseline);
        QFETCH(QString, vs);
        QFETCH(QString, chip);
        QFETCH(int, direction);
        const auto c = compare(baseline.toLatin1().constData(), vs.toLatin1().constData());
        const auto* change = changeOf(c, chip.toStdString().c_str());
        if (direction < 0) {
            QVERIFY2(!change, qPrintable(chip));
            return;
        }
        QVERIFY2(change, qPrintable(chip));
        QCOMPARE(int(change->direction), direction);
        QVERIFY(!change->because.empty());
    }

    void becauseNamesTheDecidingLines() {
        const auto c = compare("2022-10", "2023-10");
        const auto* a800 = changeOf(c, "A800 SXM4 80GB (China)");
        QVERIFY(a800);
        bool newLine = false, oldLine = false;
        for (const std::string& line : a800->because) {
            newLine = newLine || (line.find("3A090.a.1") != std::string::npos &&
                                  line.rfind("baseline: ", 0) != 0);
            // The 2022 reason it was outside: its 400 GB/s I/O.
            oldLine = oldLine || (line.rfind("baseline: ", 0) == 0 &&
                                  line.find("I/O 400") != std::string::npos);
        }
        QVERIFY(newLine);
        QVERIFY(oldLine);
    }

    void everyChipIsCountedOnce() {
        const auto chips = testing::bundledChips();
        const auto c = compare("2022-10", "2023-10");
        QCOMPARE(size_t(c.unchanged) + c.changes.size(), chips.size());
        QCOMPARE(c.baseline_results.size(), chips.size());
        const nlohmann::json j = analysis::comparisonToJson(c);
        QCOMPARE(j["baseline"].get<std::string>(), std::string("2022-10"));
        QCOMPARE(j["vs"].get<std::string>(), std::string("2023-10"));
        QCOMPARE(j["unchanged"].get<int>(), c.unchanged);
        for (const auto& ch : j["changes"]) {
            QVERIFY(ch.contains("from") && ch["from"].contains("paragraph") &&
                    ch["from"].contains("classes") && ch["from"].contains("controlled"));
            const std::string d = ch["direction"];
            QVERIFY(d == "tightened" || d == "loosened" || d == "changed");
        }
        // An edition against itself changes nothing.
        const auto same = compare("2023-10", "2023-10");
        QVERIFY(same.changes.empty());
        QVERIFY(same.flag_changes.empty());
    }

    void flagsThatChangeAreListedApart() {
        // 2025-04: the H20 letters (NVIDIA 8-K 2025-04-15); no class changes for the H20.
        const auto c = compare("2023-10", "2025-04");
        QVERIFY(!changeOf(c, "H20 (China)"));
        bool h20 = false;
        for (const auto& f : c.flag_changes)
            h20 = h20 || (f.chip == "H20 (China)" && !f.added.empty());
        QVERIFY(h20);
    }
};

QTEST_APPLESS_MAIN(TestCompare)
#include "test_compare.moc"
