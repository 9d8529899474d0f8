// Systems (4A090) from their chips: 4A090.a / .b for computers containing ICs meeting
// 3A090.a / .b (docs/reference/export-rules.md [S]); aggregate TPP = N x the chip's TPP
// (docs/reference/chips.csv: H100 SXM5 TPP 15,832; a DGX H100 holds 8, NVIDIA's DGX datasheet).
#include "analysis/Systems.h"
#include "tests/common/ReferenceData.h"

#include <QTest>

using namespace crossroads::analysis;
using namespace crossroads::testing;

namespace {

ChipSpec chip(const std::string& name) {
    static const std::vector<ChipSpec> all = bundledChips();
    for (const ChipSpec& c : all)
        if (c.name == name)
            return c;
    throw std::runtime_error("no chip " + name);
}

const Edition& edition(const std::string& id) {
    static const std::vector<Edition> all = bundledEditions();
    const Edition* e = findEdition(all, id);
    if (!e)
        throw std::runtime_error("no edition " + id);
    return *e;
}

} // namespace

class TestSystems : public QObject {
    Q_OBJECT

private slots:
    void systems_data() {
        QTest::addColumn<QString>("chip");
        QTest::addColumn<int>("count");
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("eccn");
        QTest::addColumn<double>("aggregate_tpp");
        // DGX H100: 8 x H100 SXM5 (TPP 15,832, 3A090.a) -> 4A090.a, 126,656.
        QTest::newRow("DGX H100, 2023-10") << "H100 SXM5 80GB" << 8 << "2023-10"
                                           << "4A090.a" << 8 * 15832.0;
        // HGX H20: 8 x H20 (TPP 2,368; outside 3A090 since 2023-10) -> not 4A090.
        QTest::newRow("8 x H20, 2023-10") << "H20 (China)" << 8 << "2023-10"
                                          << "none" << 8 * 2368.0;
        // L40S (3A090.b... a.2 under 2023-10: PD 9.64 >= 5.92) in a 4-GPU server.
        QTest::newRow("4 x L40S, 2023-10") << "L40S" << 4 << "2023-10"
                                           << "4A090.a" << 4 * 5864.0;
        // 8 x A800 under 2022-10 (NVLink 400 < 600): outside, whatever the aggregate TPP.
        QTest::newRow("8 x A800, 2022-10") << "A800 SXM4 80GB (China)" << 8 << "2022-10"
                                           << "none" << 8 * 4992.0;
    }

    void systems() {
        QFETCH(QString, chip);
        QFETCH(int, count);
        QFETCH(QString, edition);
        QFETCH(QString, eccn);
        QFETCH(double, aggregate_tpp);
        const SystemClassification s = classifySystem({"system", ::chip(chip.toStdString()), count},
                                                      ::edition(edition.toStdString()));
        QCOMPARE(QString::fromStdString(s.eccn.value_or("?")), eccn);
        QVERIFY(s.aggregate_tpp);
        QCOMPARE(*s.aggregate_tpp, aggregate_tpp);
        QVERIFY(QString::fromStdString(s.reason).contains(QString::number(count) + " x "));
    }

    void undeterminedChipLeavesTheSystemUndetermined() {
        // The H20 without its die area: TPP 2,368 is in 3A090.b's TPP range, PD unknown.
        ChipSpec h20 = ::chip("H20 (China)");
        h20.applicable_die_area_mm2.reset();
        const SystemClassification s = classifySystem({"H20 box", h20, 8}, ::edition("2023-10"));
        QVERIFY(!s.chip_paragraph);
        QVERIFY(!s.eccn);
        QVERIFY(QString::fromStdString(s.reason).contains("undetermined"));
    }

    void badCountIsRejected() {
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument,
            classifySystem({"empty", ::chip("H100 SXM5 80GB"), 0}, ::edition("2023-10")));
    }
};

QTEST_APPLESS_MAIN(TestSystems)
#include "test_systems.moc"
