// The bibliography end to end: a seeded chip's short source keys ("EPOCH; SA (...); NV-DS") are
// resolved against the store's bibliography and shown with their full citations in the detail
// pane's HTML.
#include "analysis/Classifier.h"
#include "app/gui/models/ChipDetailHtml.h"
#include "data/Store.h"

#include <QPalette>
#include <QTemporaryDir>
#include <QTest>

using namespace crossroads;

class TestSourceKeys : public QObject {
    Q_OBJECT
private slots:
    void detailPaneShowsFullCitations() {
        QTemporaryDir dir;
        data::Store store(dir.filePath(QStringLiteral("s.sqlite")));
        const auto chip = store.chip(QStringLiteral("H100 SXM5 80GB"));
        QVERIFY(chip);
        const auto editions = store.editions();
        const analysis::Edition* edition = analysis::findEdition(editions, "2023-10");
        QVERIFY(edition);
        const auto result = analysis::classify(*chip, *edition);
        const auto bibliography = store.bibliography();
        const gui::CitationResolver resolve = [&](std::string_view citation) {
            std::vector<gui::SourceReference> out;
            for (const auto& e : data::citedEntries(bibliography, citation))
                out.push_back({e.key, e.citation, e.url, e.date});
            return out;
        };
        const QString html = gui::chipDetailHtml(*chip, result, *edition, QPalette(), resolve);
        QVERIFY(html.contains(QStringLiteral("Source keys")));
        QVERIFY(html.contains(QStringLiteral("<b>SA</b>: SemiAnalysis")));
        QVERIFY(html.contains(QStringLiteral("(2025-01)")));
        QVERIFY(html.contains(QStringLiteral("<b>EPOCH</b>: Epoch AI")));
        QVERIFY(html.contains(QStringLiteral("<b>NV-DS</b>: NVIDIA product datasheet")));
        QCOMPARE(html.count(QStringLiteral("<b>SA</b>")), 1); // each key once
        // Without a bibliography the page is as before.
        const QString plain = gui::chipDetailHtml(*chip, result, *edition, QPalette());
        QVERIFY(!plain.contains(QStringLiteral("Source keys")));
    }
};

QTEST_MAIN(TestSourceKeys)
#include "test_source_keys.moc"
