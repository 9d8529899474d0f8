// Store::Transaction: several writes all or nothing, nesting as savepoints (an inner one left
// uncommitted undoes only its own writes; an outer one undoes everything), the transaction()
// helper rolling back on an exception, a Store write that throws inside a caller's transaction
// undoing only its own part, and renameScenario: a rename that fails at any step (a failure
// injected by a trigger at the children's move or at the old name's removal) leaves every table
// exactly as before, and one that succeeds moves the children, the unresolvable one included.
#include "analysis/Scenario.h"
#include "data/Store.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QStringList>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <stdexcept>

using namespace crossroads;
using analysis::Scenario;
using data::Store;
using data::StoreError;

namespace {

analysis::ChipSpec chipNamed(const std::string& name, double bf16 = 100) {
    analysis::ChipSpec c;
    c.name = name;
    c.vendor = "Analyst";
    c.datacenter = true;
    c.dense_tops[analysis::Precision::Bf16] = bf16;
    c.applicable_die_area_mm2 = 800;
    return c;
}

Scenario scenario(const std::string& name, const std::string& base,
                  const char* override = "3A090.a.1:tpp >= 3000") {
    Scenario s;
    s.name = name;
    s.base = base;
    s.overrides = {analysis::parseThresholdOverride(override)};
    s.note = "note of " + name;
    return s;
}

void sql(const Store& store, const QString& text) {
    QSqlQuery q(store.database());
    QVERIFY2(q.exec(text), qPrintable(text + QStringLiteral(": ") + q.lastError().text()));
}

// Every row of every table the Store writes, sorted: "the store exactly as before".
std::map<QString, QStringList> snapshot(const Store& store) {
    std::map<QString, QStringList> out;
    for (const char* table : {"chips", "chip_sources", "chip_alternatives", "audit_trail",
                              "scenarios", "editions", "meta"}) {
        QSqlQuery q(store.database());
        if (!q.exec(QStringLiteral("SELECT * FROM %1").arg(QLatin1String(table))))
            qFatal("cannot read %s: %s", table, qPrintable(q.lastError().text()));
        QStringList& rows = out[QLatin1String(table)];
        while (q.next()) {
            QStringList cells;
            for (int i = 0; i < q.record().count(); ++i)
                cells << (q.isNull(i) ? QStringLiteral("<null>") : q.value(i).toString());
            rows << cells.join(QLatin1Char('|'));
        }
        rows.sort(); // some tables are WITHOUT ROWID; their keys are among the cells
    }
    return out;
}

bool hasChip(const Store& store, const char* name) {
    return store.chip(QLatin1String(name)).has_value();
}

} // namespace

class TestStoreTransactions : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    int stores_ = 0;

    QString newStorePath() { return dir_.filePath(QStringLiteral("t%1.sqlite").arg(stores_++)); }

private Q_SLOTS:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void committedWritesStayUncommittedGo() {
        Store store(newStorePath());
        QCOMPARE(store.transactionDepth(), 0);
        {
            Store::Transaction t(store);
            QCOMPARE(t.level(), 1);
            store.upsertChips({chipNamed("Kept A")});
            store.upsertChips({chipNamed("Kept B")});
            t.commit();
        }
        QCOMPARE(store.transactionDepth(), 0);
        QVERIFY(hasChip(store, "Kept A") && hasChip(store, "Kept B"));
        const auto before = snapshot(store);
        {
            Store::Transaction t(store);
            store.upsertChips({chipNamed("Gone A")});
            store.removeChip(QStringLiteral("Kept A"));
            QVERIFY(hasChip(store, "Gone A")); // seen inside it
        }                                      // not committed
        QCOMPARE(store.transactionDepth(), 0);
        QVERIFY(!hasChip(store, "Gone A"));
        QVERIFY(hasChip(store, "Kept A"));
        QCOMPARE(snapshot(store), before); // the audit trail included
        // Another connection sees the committed writes only.
        Store other(store.path());
        QVERIFY(hasChip(other, "Kept B"));
        QVERIFY(!hasChip(other, "Gone A"));
    }

    void nestedRollsBackOnlyItsOwnPart() {
        Store store(newStorePath());
        {
            Store::Transaction outer(store);
            store.upsertChips({chipNamed("Outer")});
            {
                Store::Transaction inner(store);
                QCOMPARE(inner.level(), 2);
                QCOMPARE(store.transactionDepth(), 2);
                store.upsertChips({chipNamed("Inner, dropped")});
            }
            QCOMPARE(store.transactionDepth(), 1);
            QVERIFY(hasChip(store, "Outer"));
            QVERIFY(!hasChip(store, "Inner, dropped"));
            {
                Store::Transaction inner(store);
                store.upsertChips({chipNamed("Inner, kept")});
                inner.commit();
            }
            // Committing the outer one while an inner one is open is refused.
            {
                Store::Transaction inner(store);
                QVERIFY_THROWS_EXCEPTION(StoreError, outer.commit());
            }
            outer.commit();
        }
        QVERIFY(hasChip(store, "Outer"));
        QVERIFY(hasChip(store, "Inner, kept"));
        QVERIFY(!hasChip(store, "Inner, dropped"));
        const auto trail = store.history(QStringLiteral("Inner, dropped"));
        QVERIFY(trail.empty());
        QVERIFY(!store.history(QStringLiteral("Inner, kept")).empty());

        // An outer one left uncommitted undoes its committed inner ones too.
        const auto before = snapshot(store);
        {
            Store::Transaction outer(store);
            store.upsertChips({chipNamed("Outer 2")});
            Store::Transaction inner(store);
            store.upsertChips({chipNamed("Inner 2")});
            inner.commit();
        }
        QCOMPARE(snapshot(store), before);
    }

    void helperRollsBackOnException() {
        Store store(newStorePath());
        const auto before = snapshot(store);
        bool threw = false;
        try {
            store.transaction([&] {
                store.upsertChips({chipNamed("Half way")});
                throw std::runtime_error("injected");
            });
        } catch (const std::runtime_error& e) {
            threw = QByteArray(e.what()) == "injected";
        }
        QVERIFY(threw);
        QCOMPARE(store.transactionDepth(), 0);
        QCOMPARE(snapshot(store), before);
        // Returns what the writes return, committed.
        const data::ImportReport report =
            store.transaction([&] { return store.upsertChips({chipNamed("Whole")}); });
        QCOMPARE(report.added, 1);
        QVERIFY(Store(store.path()).chip(QStringLiteral("Whole")));
    }

    void failingWriteUndoesOnlyItself() {
        // A Store write that throws inside the caller's transaction rolls back its own part
        // (its savepoint); the caller may catch and commit the rest.
        Store store(newStorePath());
        store.saveScenario(scenario("base-one", "2026-01"));
        sql(store, QStringLiteral("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_trail "
                                  "WHEN NEW.chip = 'Refused' BEGIN "
                                  "SELECT RAISE(ABORT, 'injected audit failure'); END"));
        {
            Store::Transaction t(store);
            store.upsertChips({chipNamed("Accepted")});
            // The chip row is written, then its audit entry fails: neither stays.
            QVERIFY_THROWS_EXCEPTION(StoreError, store.upsertChips({chipNamed("Refused")}));
            QCOMPARE(store.transactionDepth(), 1);
            QVERIFY(!hasChip(store, "Refused"));
            t.commit();
        }
        QVERIFY(hasChip(store, "Accepted"));
        QVERIFY(!hasChip(store, "Refused"));
        QVERIFY(store.history(QStringLiteral("Refused")).empty());
        // Without a caller's transaction the write is all or nothing on its own.
        const auto before = snapshot(store);
        QVERIFY_THROWS_EXCEPTION(StoreError, store.upsertChips({chipNamed("Refused")}));
        QCOMPARE(snapshot(store), before);
    }

    void failedRenameLeavesTheStoreAsItWas_data() {
        QTest::addColumn<QString>("trigger");
        QTest::addColumn<QString>("stage");
        // At the second statement: the new name is saved, the first child is being moved.
        QTest::newRow("moving the children")
            << QStringLiteral("CREATE TRIGGER inject BEFORE UPDATE ON scenarios WHEN "
                              "NEW.base_edition = 'new-name' BEGIN "
                              "SELECT RAISE(ABORT, 'injected failure'); END")
            << QStringLiteral("injected failure");
        // At the last: everything else done, the old name cannot go.
        QTest::newRow("removing the old name")
            << QStringLiteral("CREATE TRIGGER inject BEFORE DELETE ON scenarios WHEN "
                              "OLD.name = 'old-name' BEGIN "
                              "SELECT RAISE(ABORT, 'injected failure'); END")
            << QStringLiteral("injected failure");
        // Refused before anything is written: the new name is taken.
        QTest::newRow("name taken") << QString() << QStringLiteral("exists already");
    }

    void failedRenameLeavesTheStoreAsItWas() {
        QFETCH(QString, trigger);
        QFETCH(QString, stage);
        Store store(newStorePath());
        store.saveScenario(scenario("old-name", "2026-01"));
        store.saveScenario(scenario("child-a", "old-name", "3A090.a.1:tpp >= 2500"));
        store.saveScenario(scenario("child-b", "old-name", "3A090.a.1:tpp >= 2000"));
        store.saveScenario(scenario("unrelated", "2023-10"));
        if (stage == QStringLiteral("exists already"))
            store.saveScenario(scenario("new-name", "2026-01"));
        if (!trigger.isEmpty())
            sql(store, trigger);
        const auto before = snapshot(store);

        Scenario renamed = scenario("new-name", "2026-01", "3A090.a.1:tpp >= 3500");
        QString error;
        try {
            store.renameScenario(QStringLiteral("old-name"), renamed);
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        QVERIFY2(error.contains(stage), qPrintable(error));
        QCOMPARE(store.transactionDepth(), 0);
        QCOMPARE(snapshot(store), before);
        // Seen the same by another connection: nothing was committed.
        Store other(store.path());
        QCOMPARE(snapshot(other), before);
        QVERIFY(store.scenario(QStringLiteral("old-name")));
        QCOMPARE(store.scenario(QStringLiteral("child-a"))->scenario.base, std::string("old-name"));

        // With the failure gone the same rename goes through whole.
        if (!trigger.isEmpty()) {
            sql(store, QStringLiteral("DROP TRIGGER inject"));
            store.renameScenario(QStringLiteral("old-name"), renamed);
            QVERIFY(!store.scenario(QStringLiteral("old-name")));
            QVERIFY(store.scenario(QStringLiteral("new-name"))->scenario == renamed);
            for (const char* child : {"child-a", "child-b"}) {
                const auto r = store.scenario(QLatin1String(child));
                QVERIFY(r);
                QCOMPARE(r->scenario.base, std::string("new-name"));
                QVERIFY2(r->problem.empty(), r->problem.c_str());
            }
            QCOMPARE(store.scenario(QStringLiteral("unrelated"))->scenario.base,
                     std::string("2023-10"));
        }
    }

    void renameMovesChildrenThatDoNotResolve() {
        Store store(newStorePath());
        store.saveScenario(scenario("old-name", "2026-01"));
        store.saveScenario(scenario("broken-child", "old-name"));
        sql(store, QStringLiteral("UPDATE scenarios SET definition_json = '{not json' "
                                  "WHERE name = 'broken-child'"));
        QVERIFY(!store.scenario(QStringLiteral("broken-child"))->problem.empty());
        store.renameScenario(QStringLiteral("old-name"), scenario("new-name", "2026-01"));
        // Moved by its base column, its stored definition untouched.
        QSqlQuery q(store.database());
        QVERIFY(q.exec(QStringLiteral("SELECT base_edition, definition_json FROM scenarios "
                                      "WHERE name = 'broken-child'")));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("new-name"));
        QCOMPARE(q.value(1).toString(), QStringLiteral("{not json"));
        // Only the case changes: one scenario, renamed in place.
        store.renameScenario(QStringLiteral("new-name"), scenario("New-Name", "2026-01"));
        QCOMPARE(QString::fromStdString(store.scenario(QStringLiteral("new-name"))->scenario.name),
                 QStringLiteral("New-Name"));
        // An unknown scenario is refused with nothing written.
        const auto before = snapshot(store);
        QVERIFY_THROWS_EXCEPTION(
            StoreError, store.renameScenario(QStringLiteral("absent"), scenario("x", "2026-01")));
        QCOMPARE(snapshot(store), before);
    }
};

QTEST_GUILESS_MAIN(TestStoreTransactions)
#include "test_store_transactions.moc"
