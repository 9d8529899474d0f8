// The benchmark panel (Tools > Benchmark…, a dock): a model (one of the engine's presets, with
// the layers to keep and the weights' type, or a checkpoint folder), a backend (auto, cpu, cuda:
// cuda greyed out with the reason when this build or machine has none) and the tokens to time; Run
// measures on a worker thread (the engine never runs on the GUI thread) with a progress bar, Cancel
// stops it at the next step, and the result is saved to the store and appears at the top of the
// results history (BenchResultsModel: measured against the datasheet peak and its roofline, and the
// export class of the device under the window's edition), which exports as CSV or XLSX.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"

#include <QFutureWatcher>
#include <QWidget>
#include <memory>
#include <optional>
#include <string>
#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;
class QTimer;

namespace crossroads::data {
class Store;
}

namespace crossroads::gui {

class BenchResultsModel;
class NumberSortProxyModel;

class BenchPanel : public QWidget {
    Q_OBJECT

public:
    // Reads the saved results from `store` and saves new ones there (on the GUI thread: the
    // worker only runs the engine). `store` outlives the panel.
    explicit BenchPanel(data::Store& store, QWidget* parent = nullptr);
    // Cancels a run in progress and waits for its thread (model loading is not interruptible).
    ~BenchPanel() override;

    // Reads and saves results in `store` from now on (File > Open store…; it outlives the
    // panel or the next setStore). false, changing nothing, while a run is in progress: its
    // result belongs to the store it started on.
    bool setStore(data::Store& store);
    // The store's chips (to find the device's chip) and the edition classifying it.
    void setChips(std::vector<analysis::ChipSpec> chips);
    void setEdition(const analysis::Edition& edition);

    // What --model would say: "preset:olmoe-1b-7b?layers=2", "preset:deepseek-v3?dtype=bf16"
    // (dtype= only when the chosen weights differ from the preset's own), or the checkpoint
    // folder.
    QString modelSpec() const;
    // Selects a preset (its layers and weights) or a folder; false for a malformed spec.
    bool setModelSpec(const QString& spec);
    void setBackend(const QString& name); // "auto", "cpu", "cuda"
    void setTokens(int prompt, int gen, int repetitions);

    bool isRunning() const;
    // Running, and still loading the model or building the backend (before the first step).
    // Cancel is possible then too: the run stops once loading ends, before any measurement.
    bool isLoading() const;
    BenchResultsModel* resultsModel() const { return results_; }
    QTableView* resultsView() const { return table_; }
    // The results as the view shows them (sorted by the header clicked; the export's model).
    NumberSortProxyModel* sortedResults() const { return sorted_; }
    QProgressBar* progressBar() const { return progress_; }
    QPushButton* runButton() const { return run_; }
    QPushButton* cancelButton() const { return cancel_; }
    // The last run's outcome, or the reason it could not start; empty before any.
    QString message() const;

public Q_SLOTS:
    // Starts a run; false (with the reason in message()) when one runs already or the choices
    // are not runnable (no folder, a preset too large for this machine's memory).
    bool start();
    void cancel();
    // Re-reads the saved results.
    void reloadResults();

Q_SIGNALS:
    void started();
    // ok: saved as result `id`; otherwise cancelled or failed (message() says which).
    void finished(bool ok);
    void resultSaved(qint64 id);

private:
    struct Job;
    struct Outcome {
        bool ok = false, cancelled = false;
        QString error;
        QString device, backend, model, dtype;
        std::string json;
        QString summary;
    };

    void buildUi();
    void onPresetChanged();
    void updateEstimate();
    void updateControls();
    void pollProgress();
    void onFinished();
    void showMessage(const QString& text, bool error);
    void showStatus(const QString& text, int timeoutMs = 0);
    void saveSettings() const;
    void restoreSettings();

    data::Store* store_ = nullptr; // never null
    BenchResultsModel* results_ = nullptr;
    NumberSortProxyModel* sorted_ = nullptr;
    std::vector<analysis::ChipSpec> chips_;

    QComboBox* model_ = nullptr;
    QSpinBox* layers_ = nullptr;
    QComboBox* weights_ = nullptr; // "" = the preset's own, else "bf16", "f32", "fp8"
    QLabel* estimate_ = nullptr;
    QLineEdit* folder_ = nullptr;
    QPushButton* browse_ = nullptr;
    QComboBox* backend_ = nullptr;
    QSpinBox* prompt_ = nullptr;
    QSpinBox* gen_ = nullptr;
    QSpinBox* repetitions_ = nullptr;
    QPushButton* run_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* message_ = nullptr;
    QLabel* resultsTitle_ = nullptr;
    QTableView* table_ = nullptr;
    QTimer* poll_ = nullptr;

    std::shared_ptr<Job> job_;
    QFutureWatcher<Outcome>* watcher_ = nullptr;
};

} // namespace crossroads::gui
