// CUDA/CPU device names matched to the chips of the bundled store.
#include "analysis/DeviceMatch.h"
#include "tests/common/ReferenceData.h"

#include <QTest>

using namespace crossroads::analysis;

class TestDeviceMatch : public QObject {
    Q_OBJECT
    std::vector<ChipSpec> chips_ = crossroads::testing::bundledChips();

private slots:
    void names_data() {
        QTest::addColumn<QString>("device");
        QTest::addColumn<QString>("chip"); // "" = no match
        QTest::newRow("H100 SXM") << "NVIDIA H100 80GB HBM3"
                                  << "H100 SXM5 80GB";
        QTest::newRow("H100 PCIe") << "NVIDIA H100 PCIe"
                                   << "H100 PCIe 80GB";
        QTest::newRow("H100 NVL") << "NVIDIA H100 NVL"
                                  << "H100 NVL 94GB";
        QTest::newRow("H200") << "NVIDIA H200"
                              << "H200 SXM 141GB";
        QTest::newRow("A100 SXM") << "NVIDIA A100-SXM4-80GB"
                                  << "A100 SXM4 80GB";
        QTest::newRow("A100 PCIe") << "NVIDIA A100 80GB PCIe"
                                   << "A100 PCIe 80GB";
        QTest::newRow("H20") << "NVIDIA H20"
                             << "H20 (China)";
        QTest::newRow("RTX 4090 not 4090D") << "NVIDIA GeForce RTX 4090"
                                            << "GeForce RTX 4090";
        QTest::newRow("MI300X") << "AMD Instinct MI300X"
                                << "Instinct MI300X";
        QTest::newRow("unknown GPU") << "NVIDIA GeForce GTX 1080"
                                     << "";
        QTest::newRow("a CPU") << "Intel(R) Xeon(R) CPU @ 2.20GHz"
                               << "";
        QTest::newRow("no model word") << "cpu"
                                       << "";
    }
    void names() {
        QFETCH(QString, device);
        QFETCH(QString, chip);
        const auto index = matchDeviceToChip(device.toStdString(), chips_);
        QCOMPARE(index ? QString::fromStdString(chips_[*index].name) : QString(), chip);
    }
};

QTEST_APPLESS_MAIN(TestDeviceMatch)
#include "test_device_match.moc"
