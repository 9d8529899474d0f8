// The chip interchange object: strict keys, null vs 0, validation, round trip.
#include "analysis/ChipJson.h"
#include "tests/common/ReferenceData.h"

#include <nlohmann/json.hpp>

#include <QTest>

using namespace crossroads::analysis;
using nlohmann::json;

class TestChipJson : public QObject {
    Q_OBJECT
private slots:
    void roundTripOfTheSeed() {
        const auto chips = crossroads::testing::bundledChips();
        for (const ChipSpec& chip : chips)
            QCOMPARE(chipFromJson(chipToJson(chip)), chip);
    }

    void seedFollowsTheReferenceConventions() {
        const auto chips = crossroads::testing::bundledChips();
        auto find = [&](const std::string& name) {
            for (const ChipSpec& c : chips)
                if (c.name == name)
                    return c;
            throw std::runtime_error(name);
        };
        // fp16_bf16 is BF16 too, except V100 and T4 which have none.
        QVERIFY(!find("V100 SXM2 (16/32GB)").dense_tops[Precision::Bf16]);
        QVERIFY(!find("T4").dense_tops[Precision::Bf16]);
        QCOMPARE(*find("H100 SXM5 80GB").dense_tops[Precision::Bf16], 989.4);
        // "?" datacenter is null; unknown figures are null, never 0.
        QVERIFY(!find("RTX 6000 Ada").datacenter);
        QVERIFY(!find("Instinct MI300X").applicable_die_area_mm2);
        QVERIFY(!find("Instinct MI308X (China)").dense_tops.any());
        // Sources are per row ("*"), never invented per figure.
        for (const ChipSpec& c : chips) {
            QVERIFY(!c.sources.empty());
            QCOMPARE(c.sources.front().field, std::string("*"));
        }
    }

    void errors_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown key") << R"({"name": "X", "vendor": "V", "fp16x": 3})"
                                     << "unknown key \"fp16x\"";
        QTest::newRow("unknown precision")
            << R"({"name": "X", "vendor": "V", "dense_tops": {"fp12": 1}})"
            << "dense_tops.fp12";
        QTest::newRow("zero figure") << R"({"name": "X", "vendor": "V", "tdp_w": 0})"
                                     << "tdp_w must be a positive number";
        QTest::newRow("negative rate")
            << R"({"name": "X", "vendor": "V", "dense_tops": {"fp8": -1}})"
            << "dense_tops.fp8";
        QTest::newRow("string figure")
            << R"({"name": "X", "vendor": "V", "memory_bandwidth_gb_per_s": "fast"})"
            << "memory_bandwidth_gb_per_s";
        QTest::newRow("no name") << R"({"vendor": "V"})"
                                 << "\"name\" is required";
        QTest::newRow("kind") << R"({"name": "X", "vendor": "V", "kind": "dram"})"
                              << "\"kind\"";
        QTest::newRow("datacenter") << R"({"name": "X", "vendor": "V", "datacenter": "yes"})"
                                    << "\"datacenter\"";
        QTest::newRow("not json") << R"({"name": )"
                                  << "not valid JSON";
        QTest::newRow("array entry") << R"([{"name": "A", "vendor": "V"}, 3])"
                                     << "chip 2";
        QTest::newRow("source key") << R"({"name": "X", "vendor": "V", "sources": [{"url": "u"}]})"
                                    << "sources.url";
        QTest::newRow("year") << R"({"name": "X", "vendor": "V", "year": 1066})"
                              << "year 1066";
    }
    void errors() {
        QFETCH(QString, text);
        QFETCH(QString, message);
        try {
            chipsFromJsonText(text.toStdString());
            QFAIL("no error");
        } catch (const ChipFormatError& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(message), e.what());
        }
    }

    void missingFiguresAreNull() {
        const auto chips =
            chipsFromJsonText(R"({"name": "X", "vendor": "V", "io_bidirectional_gb_per_s": null})");
        QCOMPARE(chips.size(), size_t(1));
        QVERIFY(!chips[0].io_bidirectional_gb_per_s);
        QVERIFY(!chips[0].datacenter);
        QCOMPARE(chips[0].kind, ChipKind::Logic);
        const json out = chipToJson(chips[0]);
        QVERIFY(out["tdp_w"].is_null());
        QVERIFY(out["datacenter"].is_null());
    }
};

QTEST_APPLESS_MAIN(TestChipJson)
#include "test_chip_json.moc"
