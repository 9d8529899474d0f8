// Scenarios in the store (the frozen v1 `scenarios` table): round trip, names case-insensitive
// and never an edition's id, replacing keeps created_at, removal, a base that disappears (listed
// with the problem, left out of editions()), scenarios of scenarios and their cycles, an
// unreadable definition, and that a scenario is never the default edition.
#include "analysis/Scenario.h"
#include "data/Store.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <algorithm>

using namespace crossroads;
using analysis::Scenario;
using analysis::ScenarioError;
using data::Store;
using data::StoreError;

namespace {

// A second connection beside the Store's, to change the file behind its back.
void rawExec(const QString& path, const QString& sql) {
    const QString name = QStringLiteral("raw-scenarios");
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY2(q.exec(sql), qPrintable(q.lastError().text()));
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}

analysis::ChipSpec hypothetical(const std::string& name) {
    analysis::ChipSpec c;
    c.name = name;
    c.vendor = "Analyst";
    c.datacenter = true;
    c.dense_tops[analysis::Precision::Bf16] = 130;
    c.applicable_die_area_mm2 = 1000;
    return c;
}

Scenario lowerA1(const std::string& name = "lower-a1", const std::string& base = "2023-10") {
    return {name,
            base,
            {analysis::parseThresholdOverride("3A090.a.1:tpp >= 2000")},
            {hypothetical("Hypo X1")},
            "What if the line were 2,000?"};
}

template <typename E, typename F> QString errorOf(F f) {
    try {
        f();
    } catch (const E& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

const analysis::Edition* find(const std::vector<analysis::Edition>& all, const char* id) {
    return analysis::findEdition(all, id);
}

} // namespace

class TestScenarios : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    int stores_ = 0;

    QString newStorePath() { return dir_.filePath(QStringLiteral("s%1.sqlite").arg(stores_++)); }

private Q_SLOTS:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void roundTrip() {
        Store store(newStorePath());
        QVERIFY(store.scenarios().empty());
        const size_t editions = store.editions().size();
        const Scenario s = lowerA1();
        store.saveScenario(s);
        const auto records = store.scenarios();
        QCOMPARE(records.size(), size_t(1));
        QVERIFY(records.front().scenario == s);
        QVERIFY(records.front().problem.empty());
        QVERIFY(!records.front().created_at.isEmpty());
        QCOMPARE(records.front().updated_at, records.front().created_at);

        // editions(): the regulation's first, then the scenario, resolved on its base.
        const auto all = store.editions();
        QCOMPARE(all.size(), editions + 1);
        QVERIFY(all.back().scenario);
        QCOMPARE(QString::fromStdString(all.back().id), QStringLiteral("lower-a1"));
        QCOMPARE(QString::fromStdString(all.back().base), QStringLiteral("2023-10"));
        QCOMPARE(all.back().hypothetical_chips.size(), size_t(1));
        QCOMPARE(store.defaultEditionId(), QStringLiteral("2026-01"));

        // A second Store on the same file reads it the same.
        Store again(store.path());
        QVERIFY(again.scenario(QStringLiteral("lower-a1"))->scenario == s);
    }

    void namesAreCaseInsensitive() {
        Store store(newStorePath());
        store.saveScenario(lowerA1("Tight"));
        QVERIFY(store.scenario(QStringLiteral("tight")).has_value());
        QCOMPARE(QString::fromStdString(store.scenario(QStringLiteral("TIGHT"))->scenario.name),
                 QStringLiteral("Tight"));
        const QString taken = errorOf<StoreError>([&] { store.saveScenario(lowerA1("TIGHT")); });
        QVERIFY2(taken.contains(QStringLiteral("\"Tight\" exists already")), qPrintable(taken));
        // Replacing under another case renames it; there is still one.
        store.saveScenario(lowerA1("TIGHT"), true);
        QCOMPARE(store.scenarios().size(), size_t(1));
        QCOMPARE(QString::fromStdString(store.scenarios().front().scenario.name),
                 QStringLiteral("TIGHT"));
        // An edition's id is never a scenario's name.
        const QString edition =
            errorOf<ScenarioError>([&] { store.saveScenario(lowerA1("2026-01")); });
        QVERIFY2(edition.contains(QStringLiteral("is the id of an edition")), qPrintable(edition));
    }

    void replacingKeepsCreatedAt() {
        Store store(newStorePath());
        store.saveScenario(lowerA1());
        const auto first = *store.scenario(QStringLiteral("lower-a1"));
        QThread::msleep(20);
        Scenario changed = lowerA1();
        changed.note = "changed";
        changed.overrides = {analysis::parseThresholdOverride("3A090.a.1:tpp >= 3000")};
        store.saveScenario(changed, true);
        const auto second = *store.scenario(QStringLiteral("lower-a1"));
        QVERIFY(second.scenario == changed);
        QCOMPARE(second.created_at, first.created_at);
        QVERIFY2(second.updated_at > first.updated_at, qPrintable(second.updated_at));
        // --replace of a scenario that does not exist creates it.
        store.saveScenario(lowerA1("fresh"), true);
        QCOMPARE(store.scenarios().size(), size_t(2));
    }

    void badScenariosAreRefusedAndNothingIsWritten_data() {
        QTest::addColumn<QString>("problem");
        QTest::addColumn<QString>("named");
        QTest::newRow("unknown base") << "base"
                                      << "unknown edition \"1999-01\" (known: 2022-10,";
        QTest::newRow("clause the base lacks") << "clause"
                                               << "has no clause \"3A090.z\"";
        QTest::newRow("opposite direction") << "direction"
                                            << "direction of <";
        QTest::newRow("stored chip name") << "chip"
                                          << "has the name of the stored chip \"H100 SXM5 80GB\"";
        QTest::newRow("itself") << "self"
                                << "cannot extend itself";
    }
    void badScenariosAreRefusedAndNothingIsWritten() {
        QFETCH(QString, problem);
        QFETCH(QString, named);
        Store store(newStorePath());
        Scenario s = lowerA1();
        if (problem == "base")
            s.base = "1999-01";
        if (problem == "clause")
            s.overrides = {analysis::parseThresholdOverride("3A090.z:tpp >= 1")};
        if (problem == "direction")
            s.overrides = {analysis::parseThresholdOverride("3A090.a.1:tpp < 1")};
        if (problem == "chip")
            s.hypothetical_chips.front().name = "h100 sxm5 80gb";
        if (problem == "self")
            s.base = "LOWER-A1";
        const QString message = errorOf<ScenarioError>([&] { store.saveScenario(s); });
        QVERIFY2(message.contains(named), qPrintable(message));
        QVERIFY(store.scenarios().empty());
    }

    void removal() {
        Store store(newStorePath());
        store.saveScenario(lowerA1());
        store.saveScenario(lowerA1("other"));
        QVERIFY(store.removeScenario(QStringLiteral("LOWER-A1")));
        QVERIFY(!store.removeScenario(QStringLiteral("lower-a1")));
        QCOMPARE(store.scenarios().size(), size_t(1));
        const auto all = store.editions();
        QVERIFY(!find(all, "lower-a1"));
        QVERIFY(find(all, "other"));
    }

    void missingBaseIsListedNotResolved() {
        Store store(newStorePath());
        // A user's edition (the table takes them), a scenario on it, then the edition goes.
        rawExec(
            store.path(),
            QStringLiteral("INSERT INTO editions (id, definition_json, origin) VALUES ('mine', "
                           "'{\"id\": \"mine\", \"extends\": \"2023-10\", \"title\": \"Mine\", "
                           "\"citation\": {\"text\": \"me\", \"evidence\": \"U\"}, \"effective\": "
                           "\"2024-01-01\", \"status\": \"superseded\"}', 'user')"));
        QVERIFY(find(store.editions(), "mine"));
        store.saveScenario(lowerA1("on-mine", "mine"));
        store.saveScenario(lowerA1("on-bundled"));
        store.saveScenario(lowerA1("on-scenario", "on-mine"));
        QVERIFY(find(store.editions(), "on-scenario"));
        rawExec(store.path(), QStringLiteral("DELETE FROM editions WHERE id = 'mine'"));

        const auto records = store.scenarios();
        QCOMPARE(records.size(), size_t(3));
        auto problemOf = [&](const char* name) {
            for (const auto& r : records)
                if (r.scenario.name == name)
                    return QString::fromStdString(r.problem);
            return QStringLiteral("(not listed)");
        };
        QCOMPARE(problemOf("on-mine"),
                 QStringLiteral("its base edition \"mine\" is not in the store"));
        QVERIFY2(problemOf("on-scenario").contains(QStringLiteral("base scenario \"on-mine\"")),
                 qPrintable(problemOf("on-scenario")));
        QVERIFY(problemOf("on-bundled").isEmpty());
        const auto all = store.editions();
        QVERIFY(!find(all, "on-mine"));
        QVERIFY(!find(all, "on-scenario"));
        QVERIFY(find(all, "on-bundled"));
        // It can be replaced onto an edition that exists.
        store.saveScenario(lowerA1("on-mine", "2026-01"), true);
        QVERIFY(find(store.editions(), "on-mine"));
        QVERIFY(find(store.editions(), "on-scenario"));
    }

    void scenariosOfScenariosNeverCycle() {
        Store store(newStorePath());
        store.saveScenario(lowerA1("a"));
        Scenario b{"b", "A", {analysis::parseThresholdOverride("3A090.b.1:tpp >= 2000")}, {}, ""};
        store.saveScenario(b);
        // Stored with the base's own spelling.
        QCOMPARE(QString::fromStdString(store.scenario(QStringLiteral("b"))->scenario.base),
                 QStringLiteral("a"));
        const auto* resolved = find(store.editions(), "b");
        QVERIFY(resolved);
        QCOMPARE(resolved->hypothetical_chips.size(), size_t(1)); // a's chip
        // a onto b would close a loop.
        const QString message =
            errorOf<ScenarioError>([&] { store.saveScenario(lowerA1("a", "b"), true); });
        QVERIFY2(message.contains(QStringLiteral("cannot extend itself")), qPrintable(message));
        QCOMPARE(QString::fromStdString(store.scenario(QStringLiteral("a"))->scenario.base),
                 QStringLiteral("2023-10"));
        // A loop made behind the store's back is reported, not followed for ever.
        rawExec(store.path(),
                QStringLiteral("UPDATE scenarios SET base_edition = 'b' WHERE name = 'a'"));
        for (const auto& r : store.scenarios())
            QVERIFY2(!r.problem.empty(), r.scenario.name.c_str());
        QVERIFY(!find(store.editions(), "a"));
    }

    void unreadableDefinitionIsListed() {
        Store store(newStorePath());
        store.saveScenario(lowerA1());
        store.saveScenario(lowerA1("fine"));
        rawExec(store.path(), QStringLiteral("UPDATE scenarios SET definition_json = '{\"name\": "
                                             "1' WHERE name = 'lower-a1'"));
        const auto record = store.scenario(QStringLiteral("lower-a1"));
        QVERIFY(record.has_value());
        QVERIFY2(QString::fromStdString(record->problem)
                     .startsWith(QStringLiteral("its definition cannot be read")),
                 record->problem.c_str());
        const auto all = store.editions();
        QVERIFY(!find(all, "lower-a1"));
        QVERIFY(find(all, "fine"));
    }
};

QTEST_GUILESS_MAIN(TestScenarios)
#include "test_scenarios.moc"
