#include "app/gui/BenchPanel.h"

#include "analysis/DeviceMatch.h"
#include "app/gui/TableExportUi.h"
#include "app/gui/models/BenchResultsModel.h"
#include "app/gui/models/DisplayText.h"
#include "app/gui/models/NumberSortProxyModel.h"
#include "data/Store.h"
#include "inference/bench/Bench.h"
#include "inference/engine/Engine.h"
#include "inference/model/Cost.h"
#include "inference/model/Presets.h"
#include "inference/model/Weights.h"

#include <QAction>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace crossroads::gui {

namespace {

using namespace crossroads::inference;

const QString kFolderItem = QStringLiteral("folder");

// The spec's name of a type (dtype=) and the panel's.
QString dtypeKey(WeightType type) {
    return toQString(std::string(dtypeSpecKey(type)));
}
QString dtypeLabel(WeightType type) {
    return dtypeKey(type).toUpper();
}
std::optional<WeightType> dtypeFromKey(const QString& key) {
    return weightTypeFromSpecKey(key.toStdString());
}

// Bytes of the synthetic weights at `type`, as loadModel makes them.
double weightBytes(const ModelConfig& config, WeightType type) {
    return totalParameterSplit(config).total() * synthesisBytesPerParameter(config, type);
}

std::unique_ptr<QSettings> settings() {
    if (QCoreApplication::organizationName().isEmpty())
        return std::make_unique<QSettings>(QStringLiteral("Crossroads"),
                                           QStringLiteral("crossroads"));
    return std::make_unique<QSettings>();
}

double physicalMemoryBytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? static_cast<double>(pages) * static_cast<double>(size) : 0.0;
}

QString gigabytes(double bytes) {
    return QStringLiteral("%1 GB").arg(formatFigure(bytes / 1e9));
}

QString stageText(const std::string& stage) {
    if (stage == "measuring")
        return QStringLiteral("measuring the device's peaks");
    if (stage == "warm-up")
        return QStringLiteral("warming up");
    return QString::fromStdString(stage);
}

} // namespace

// What the worker and the GUI thread share: the cancel flag, and the progress it reports.
struct BenchPanel::Job {
    std::atomic<bool> cancel{false};
    std::atomic<int64_t> done{0}, total{0};
    std::mutex mutex;
    std::string stage = "loading";
    QString model, backend;
};

BenchPanel::BenchPanel(data::Store& store, QWidget* parent)
    : QWidget(parent), store_(&store), results_(new BenchResultsModel(this)),
      sorted_(new NumberSortProxyModel(this)), poll_(new QTimer(this)),
      watcher_(new QFutureWatcher<Outcome>(this)) {
    setObjectName(QStringLiteral("benchPanel"));
    buildUi();
    restoreSettings();
    poll_->setInterval(100);
    connect(poll_, &QTimer::timeout, this, &BenchPanel::pollProgress);
    connect(watcher_, &QFutureWatcher<Outcome>::finished, this, &BenchPanel::onFinished);
    reloadResults();
    updateControls();
}

BenchPanel::~BenchPanel() {
    if (job_)
        job_->cancel = true;
    // The worker holds the engine, which must not outlive what it runs for.
    watcher_->disconnect(this);
    watcher_->waitForFinished();
}

void BenchPanel::buildUi() {
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    model_ = new QComboBox(this);
    model_->setObjectName(QStringLiteral("benchModel"));
    for (const std::string& name : presetNames())
        model_->addItem(QStringLiteral("Preset %1").arg(toQString(name)), toQString(name));
    model_->addItem(QStringLiteral("Checkpoint folder…"), kFolderItem);
    model_->setToolTip(
        QStringLiteral("A reference shape with deterministic random weights, or a "
                       "Hugging Face checkpoint folder (config.json + safetensors)"));
    form->addRow(QStringLiteral("Model"), model_);

    layers_ = new QSpinBox(this);
    layers_->setObjectName(QStringLiteral("benchLayers"));
    layers_->setToolTip(QStringLiteral("Layers of the preset to keep, at full width (a truncated "
                                       "DeepSeek keeps MoE layers); its weights are made in "
                                       "memory"));
    estimate_ = new QLabel(this);
    estimate_->setObjectName(QStringLiteral("benchEstimate"));
    auto* layersRow = new QHBoxLayout;
    layersRow->addWidget(layers_);
    layersRow->addWidget(estimate_, 1);
    form->addRow(QStringLiteral("Layers"), layersRow);

    // The first item is the preset's own type (named in onPresetChanged): no dtype= in the spec.
    weights_ = new QComboBox(this);
    weights_->setObjectName(QStringLiteral("benchWeights"));
    weights_->addItem(QString(), QString());
    for (WeightType type : {WeightType::BF16, WeightType::F32, WeightType::FP8E4M3})
        weights_->addItem(dtypeLabel(type), dtypeKey(type));
    weights_->setToolTip(QStringLiteral("The type of the preset's synthetic weights: FP8 "
                                        "(E4M3 with block scales; embedding, LM head, routers "
                                        "and norms stay BF16, as DeepSeek-V3 ships), BF16 or "
                                        "F32. A checkpoint folder has its own."));
    form->addRow(QStringLiteral("Weights"), weights_);

    folder_ = new QLineEdit(this);
    folder_->setObjectName(QStringLiteral("benchFolder"));
    folder_->setPlaceholderText(QStringLiteral("config.json + *.safetensors"));
    browse_ = new QPushButton(QStringLiteral("Browse…"), this);
    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(folder_, 1);
    folderRow->addWidget(browse_);
    form->addRow(QStringLiteral("Folder"), folderRow);
    connect(browse_, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            this, QStringLiteral("Checkpoint folder"),
            folder_->text().isEmpty() ? QDir::homePath() : folder_->text());
        if (!dir.isEmpty())
            folder_->setText(dir);
    });

    backend_ = new QComboBox(this);
    backend_->setObjectName(QStringLiteral("benchBackend"));
    backend_->addItem(QStringLiteral("auto (CUDA when present)"), QStringLiteral("auto"));
    backend_->addItem(QStringLiteral("cpu"), QStringLiteral("cpu"));
    backend_->addItem(QStringLiteral("cuda"), QStringLiteral("cuda"));
    std::string why;
    if (!cudaAvailable(&why))
        if (auto* items = qobject_cast<QStandardItemModel*>(backend_->model())) {
            QStandardItem* cuda = items->item(2);
            cuda->setEnabled(false);
            cuda->setToolTip(QStringLiteral("Not available: %1").arg(toQString(why)));
            backend_->setToolTip(QStringLiteral("CUDA is not available: %1").arg(toQString(why)));
        }
    form->addRow(QStringLiteral("Backend"), backend_);

    const auto spin = [this](const char* name, int lo, int hi, int value, const QString& tip) {
        auto* box = new QSpinBox(this);
        box->setObjectName(QLatin1String(name));
        box->setRange(lo, hi);
        box->setValue(value);
        box->setToolTip(tip);
        return box;
    };
    prompt_ = spin("benchPrompt", 1, 16384, 64,
                   QStringLiteral("Prompt tokens per sequence, "
                                  "prefilled and timed"));
    gen_ = spin("benchGen", 1, 8192, 32,
                QStringLiteral("Tokens generated per sequence, each "
                               "decode step timed"));
    repetitions_ =
        spin("benchRepetitions", 1, 50, 3, QStringLiteral("Timed repetitions (after a warm-up)"));
    auto* tokens = new QHBoxLayout;
    tokens->addWidget(new QLabel(QStringLiteral("prompt"), this));
    tokens->addWidget(prompt_);
    tokens->addWidget(new QLabel(QStringLiteral("generate"), this));
    tokens->addWidget(gen_);
    tokens->addWidget(new QLabel(QStringLiteral("repetitions"), this));
    tokens->addWidget(repetitions_);
    tokens->addStretch(1);
    form->addRow(QStringLiteral("Tokens"), tokens);

    run_ = new QPushButton(QStringLiteral("Run"), this);
    run_->setObjectName(QStringLiteral("benchRun"));
    run_->setDefault(true);
    cancel_ = new QPushButton(QStringLiteral("Cancel"), this);
    cancel_->setObjectName(QStringLiteral("benchCancel"));
    progress_ = new QProgressBar(this);
    progress_->setObjectName(QStringLiteral("benchProgress"));
    progress_->setRange(0, 1);
    progress_->setValue(0);
    progress_->setTextVisible(true);
    progress_->setFormat(QString()); // no "0%" before the first run
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(run_);
    runRow->addWidget(cancel_);
    runRow->addWidget(progress_, 1);
    form->addRow(runRow);
    message_ = new QLabel(this);
    message_->setObjectName(QStringLiteral("benchMessage"));
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(message_);
    connect(run_, &QPushButton::clicked, this, &BenchPanel::start);
    connect(cancel_, &QPushButton::clicked, this, &BenchPanel::cancel);

    auto* runBox = new QGroupBox(QStringLiteral("Measure on this machine"), this);
    runBox->setLayout(form);
    runBox->setMinimumWidth(440);

    resultsTitle_ = new QLabel(this);
    resultsTitle_->setObjectName(QStringLiteral("benchResultsTitle"));
    table_ = new QTableView(this);
    table_->setObjectName(QStringLiteral("benchResults"));
    // Sortable by a click on a header, figures by value (NumberRole); the export and the
    // selection go through the proxy, so both are the table as shown.
    sorted_->setSourceModel(results_);
    table_->setModel(sorted_);
    table_->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder); // newest first
    table_->setSortingEnabled(true);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setStretchLastSection(true);
    QAction* exportAction =
        addExportToContextMenu(table_, QStringLiteral("bench-results"), QStringLiteral("Results"));
    auto* exportButton = new QPushButton(QStringLiteral("Export results…"), this);
    exportButton->setObjectName(QStringLiteral("benchExport"));
    exportButton->setToolTip(exportAction->toolTip());
    connect(exportButton, &QPushButton::clicked, exportAction, &QAction::trigger);
    auto* titleRow = new QHBoxLayout;
    titleRow->addWidget(resultsTitle_, 1);
    titleRow->addWidget(exportButton);
    auto* resultsBox = new QVBoxLayout;
    resultsBox->addLayout(titleRow);
    resultsBox->addWidget(table_, 1);

    auto* layout = new QHBoxLayout(this);
    layout->addWidget(runBox);
    layout->addLayout(resultsBox, 1);

    connect(model_, &QComboBox::currentIndexChanged, this, &BenchPanel::onPresetChanged);
    connect(weights_, &QComboBox::currentIndexChanged, this, &BenchPanel::updateEstimate);
    connect(layers_, &QSpinBox::valueChanged, this, &BenchPanel::updateEstimate);
    const auto updateTitle = [this] {
        const int column = table_->horizontalHeader()->sortIndicatorSection();
        QStringList notes;
        if (column < 0 || column >= results_->columnCount())
            notes << QStringLiteral("newest first");
        else
            notes << QStringLiteral("by %1").arg(results_->headerData(column, Qt::Horizontal)
                                                     .toString()
                                                     .replace(QLatin1Char('\n'), QLatin1Char(' ')));
        if (const auto& e = results_->edition())
            notes << QStringLiteral("export class under %1").arg(toQString(e->id));
        resultsTitle_->setText(
            QStringLiteral("<b>Results</b> (%1)").arg(notes.join(QStringLiteral("; "))));
    };
    connect(results_, &QAbstractItemModel::modelReset, this, [this, updateTitle] {
        table_->resizeColumnsToContents();
        updateTitle();
    });
    connect(table_->horizontalHeader(), &QHeaderView::sortIndicatorChanged, this, updateTitle);
    onPresetChanged();
}

void BenchPanel::setChips(std::vector<analysis::ChipSpec> chips) {
    chips_ = chips;
    results_->setChips(std::move(chips));
}

void BenchPanel::setEdition(const analysis::Edition& edition) {
    results_->setEdition(edition);
}

bool BenchPanel::setStore(data::Store& store) {
    if (isRunning())
        return false;
    store_ = &store;
    reloadResults();
    return true;
}

void BenchPanel::reloadResults() {
    try {
        results_->setRecords(store_->benchmarkResults());
    } catch (const std::exception& e) {
        showMessage(
            QStringLiteral("Cannot read the saved results: %1").arg(QString::fromUtf8(e.what())),
            true);
    }
}

QString BenchPanel::modelSpec() const {
    const QString preset = model_->currentData().toString();
    if (preset == kFolderItem)
        return folder_->text().trimmed();
    QStringList options;
    if (layers_->value() < layers_->maximum())
        options << QStringLiteral("layers=%1").arg(layers_->value());
    // dtype= only when it differs from the preset's own type.
    if (const auto type = dtypeFromKey(weights_->currentData().toString()))
        if (*type != presetWeightType(presetConfig(preset.toStdString())))
            options << QStringLiteral("dtype=") + dtypeKey(*type);
    QString spec = QStringLiteral("preset:") + preset;
    if (!options.isEmpty())
        spec += QLatin1Char('?') + options.join(QLatin1Char('&'));
    return spec;
}

bool BenchPanel::setModelSpec(const QString& spec) {
    ModelSpec parsed;
    try {
        parsed = parseModelSpec(spec.toStdString());
    } catch (const EngineError&) {
        return false;
    }
    if (!parsed.isPreset) {
        model_->setCurrentIndex(model_->findData(kFolderItem));
        folder_->setText(spec);
        return true;
    }
    model_->setCurrentIndex(model_->findData(toQString(parsed.presetName)));
    layers_->setValue(parsed.layers > 0 ? static_cast<int>(parsed.layers) : layers_->maximum());
    // A dtype= naming the preset's own type is the preset's own item.
    const bool own =
        !parsed.dtype || *parsed.dtype == presetWeightType(presetConfig(parsed.presetName));
    weights_->setCurrentIndex(own ? 0 : weights_->findData(dtypeKey(*parsed.dtype)));
    return true;
}

void BenchPanel::setBackend(const QString& name) {
    const int index = backend_->findData(name);
    const auto* items = qobject_cast<QStandardItemModel*>(backend_->model());
    // A backend this machine lacks (cuda greyed out) is not chosen.
    if (index >= 0 && (!items || items->item(index)->isEnabled()))
        backend_->setCurrentIndex(index);
}

void BenchPanel::setTokens(int prompt, int gen, int repetitions) {
    prompt_->setValue(prompt);
    gen_->setValue(gen);
    repetitions_->setValue(repetitions);
}

bool BenchPanel::isRunning() const {
    return watcher_->isRunning();
}

QString BenchPanel::message() const {
    return message_->text();
}

void BenchPanel::onPresetChanged() {
    const QString preset = model_->currentData().toString();
    const bool folder = preset == kFolderItem;
    folder_->setEnabled(folder);
    browse_->setEnabled(folder);
    layers_->setEnabled(!folder);
    weights_->setEnabled(!folder);
    if (folder) {
        weights_->setItemText(0, QStringLiteral("the checkpoint's own"));
    } else {
        const ModelConfig config = presetConfig(preset.toStdString());
        weights_->setItemText(
            0, QStringLiteral("%1 (the preset's)").arg(dtypeLabel(presetWeightType(config))));
        const int all = static_cast<int>(config.numLayers);
        const int keep = std::min(layers_->value() > 0 ? layers_->value() : 2, all);
        layers_->setRange(1, all);
        layers_->setSpecialValueText(QString());
        layers_->setSuffix(QStringLiteral(" of %1").arg(all));
        layers_->setValue(keep);
    }
    updateEstimate();
}

void BenchPanel::updateEstimate() {
    const QString preset = model_->currentData().toString();
    if (preset == kFolderItem) {
        estimate_->setText(QStringLiteral("the folder's weights are mapped, not copied"));
        return;
    }
    const ModelConfig config = presetConfig(preset.toStdString(), layers_->value());
    const WeightType type =
        dtypeFromKey(weights_->currentData().toString()).value_or(presetWeightType(config));
    const double bytes = weightBytes(config, type);
    estimate_->setText(
        QStringLiteral("≈ %1 of %2 weights").arg(gigabytes(bytes), dtypeLabel(type)));
    const double memory = physicalMemoryBytes();
    estimate_->setToolTip(
        memory > 0 ? QStringLiteral("This machine has %1 of memory").arg(gigabytes(memory))
                   : QString());
}

void BenchPanel::updateControls() {
    const bool running = isRunning();
    for (QWidget* w :
         std::initializer_list<QWidget*>{model_, backend_, prompt_, gen_, repetitions_, run_})
        w->setEnabled(!running);
    const bool folder = model_->currentData().toString() == kFolderItem;
    layers_->setEnabled(!running && !folder);
    weights_->setEnabled(!running && !folder);
    folder_->setEnabled(!running && folder);
    browse_->setEnabled(!running && folder);
    cancel_->setEnabled(running && !(job_ && job_->cancel));
    cancel_->setToolTip(
        isLoading() ? QStringLiteral("Stop the run: it stops once the model is loaded (loading "
                                     "cannot be interrupted), before anything is measured")
                    : QStringLiteral("Stop the run at the next step; nothing is saved"));
}

void BenchPanel::showMessage(const QString& text, bool error) {
    message_->setText(text);
    QPalette p = message_->palette();
    p.setColor(QPalette::WindowText, error ? toneColor(palette(), Tone::Controlled)
                                           : palette().color(QPalette::WindowText));
    message_->setPalette(p);
}

void BenchPanel::showStatus(const QString& text, int timeoutMs) {
    // The window's status bar, when the panel sits in one (docked or floating).
    for (QWidget* w = parentWidget(); w; w = w->parentWidget())
        if (auto* window = qobject_cast<QMainWindow*>(w)) {
            window->statusBar()->showMessage(text, timeoutMs);
            return;
        }
}

bool BenchPanel::start() {
    if (isRunning()) {
        showMessage(QStringLiteral("A benchmark is running: cancel it first."), true);
        return false;
    }
    const QString spec = modelSpec();
    if (spec.isEmpty()) {
        showMessage(QStringLiteral("Choose a checkpoint folder (config.json and safetensors)."),
                    true);
        return false;
    }
    if (model_->currentData().toString() != kFolderItem) {
        const ModelConfig config =
            presetConfig(model_->currentData().toString().toStdString(), layers_->value());
        const double bytes = weightBytes(
            config,
            dtypeFromKey(weights_->currentData().toString()).value_or(presetWeightType(config)));
        const double memory = physicalMemoryBytes();
        if (memory > 0 && bytes > 0.8 * memory) {
            showMessage(QStringLiteral("%1 needs about %2 for its weights, more than this "
                                       "machine's %3 allows: keep fewer layers.")
                            .arg(spec, gigabytes(bytes), gigabytes(memory)),
                        true);
            return false;
        }
    }
    const auto kind = backendKindFromName(backend_->currentData().toString().toStdString());
    BenchOptions options;
    options.promptTokens = prompt_->value();
    options.genTokens = gen_->value();
    options.repetitions = repetitions_->value();
    saveSettings();

    auto job = std::make_shared<Job>();
    job->model = spec;
    job->backend = backend_->currentData().toString();
    job_ = job;
    const std::vector<analysis::ChipSpec> chips = chips_;
    watcher_->setFuture(QtConcurrent::run([job, spec, kind, options, chips] {
        Outcome out;
        BenchOptions run = options;
        try {
            const Model model = loadModel(spec.toStdString());
            if (job->cancel)
                throw BenchCancelled("cancelled");
            const auto backend = makeBackend(kind.value_or(BackendKind::Auto), model);
            if (job->cancel) // asked for while the backend took the weights
                throw BenchCancelled("cancelled");
            // Datasheet peaks of the device, when the store knows the chip (as `bench` does).
            const DeviceInfo device = backend->device();
            if (device.backend != "cpu")
                if (const auto index = analysis::matchDeviceToChip(device.name, chips)) {
                    run.specBandwidthGbPerS = chips[*index].memory_bandwidth_gb_per_s;
                    run.specBf16Tflops = chips[*index].dense_tops[analysis::Precision::Bf16];
                    run.specChipName = chips[*index].name;
                }
            run.onProgress = [job](const BenchProgress& p) {
                job->total = p.total;
                job->done = p.done;
                {
                    const std::lock_guard lock(job->mutex);
                    job->stage = p.stage;
                }
                return !job->cancel.load();
            };
            const BenchResult result = runBench(*backend, run);
            out.ok = true;
            out.json = benchResultToJson(result).dump();
            out.device = toQString(result.device);
            out.backend = toQString(result.backend);
            out.model = toQString(result.model);
            out.dtype = toQString(result.dtype);
            QStringList rates;
            for (const PhaseResult& phase : result.phases)
                if (phase.phase == "prefill" || rates.size() < 2)
                    rates << QStringLiteral("%1 %2 tok/s")
                                 .arg(toQString(phase.phase), formatFigure(phase.tokensPerS));
            out.summary =
                QStringLiteral("%1 on %2 (%3): %4")
                    .arg(out.model, out.device, out.backend, rates.join(QStringLiteral(", ")));
        } catch (const BenchCancelled&) {
            out.cancelled = true;
        } catch (const std::exception& e) {
            out.error = QString::fromUtf8(e.what());
        }
        return out;
    }));
    progress_->setRange(0, 0); // busy until the engine reports its total
    progress_->setFormat(QStringLiteral("loading %1").arg(spec));
    showMessage(QStringLiteral("Loading %1…").arg(spec), false);
    showStatus(QStringLiteral("Benchmark: loading %1").arg(spec));
    poll_->start();
    updateControls();
    Q_EMIT started();
    return true;
}

bool BenchPanel::isLoading() const {
    if (!job_ || !isRunning())
        return false;
    const std::lock_guard lock(job_->mutex);
    return job_->stage == "loading";
}

void BenchPanel::cancel() {
    if (!job_ || !isRunning())
        return;
    job_->cancel = true;
    cancel_->setEnabled(false);
    if (isLoading()) {
        // Loading the weights (and building the backend) cannot be interrupted: the run stops
        // right after, before anything is measured.
        showMessage(QStringLiteral("Cancelling: the run stops once the model is loaded (loading "
                                   "cannot be interrupted); nothing will be measured."),
                    false);
        showStatus(QStringLiteral("Benchmark: cancelling once the model is loaded"));
    } else {
        showMessage(QStringLiteral("Cancelling at the next step…"), false);
        showStatus(QStringLiteral("Benchmark: cancelling"));
    }
}

void BenchPanel::pollProgress() {
    if (!job_)
        return;
    const int64_t total = job_->total, done = job_->done;
    std::string stage;
    {
        const std::lock_guard lock(job_->mutex);
        stage = job_->stage;
    }
    if (total <= 0 || stage == "loading")
        return;
    if (cancel_->toolTip().contains(QLatin1String("loaded")))
        updateControls(); // loading is over: Cancel stops at the next step now
    progress_->setRange(0, static_cast<int>(total));
    progress_->setValue(static_cast<int>(done));
    progress_->setFormat(QStringLiteral("%1: %p%").arg(stageText(stage)));
    if (!job_->cancel)
        showStatus(QStringLiteral("Benchmark of %1 (%2): %3, %4 of %5 steps")
                       .arg(job_->model, job_->backend, stageText(stage))
                       .arg(done)
                       .arg(total));
}

void BenchPanel::onFinished() {
    poll_->stop();
    const Outcome out = watcher_->result();
    job_.reset();
    progress_->setRange(0, 1);
    progress_->setValue(out.ok ? 1 : 0);
    progress_->setFormat(out.ok ? QStringLiteral("done") : QString());
    bool saved = false;
    if (out.ok) {
        try {
            const qint64 id = store_->saveBenchmarkResult(out.device, out.backend, out.model,
                                                          out.dtype, out.json);
            reloadResults();
            // The new result, wherever the table's order puts it.
            for (int r = 0; r < sorted_->rowCount(); ++r)
                if (sorted_->index(r, 0).data(BenchResultsModel::RecordIdRole).toLongLong() == id) {
                    table_->selectRow(r);
                    table_->scrollTo(sorted_->index(r, 0));
                }
            showMessage(QStringLiteral("Saved: %1").arg(out.summary), false);
            showStatus(QStringLiteral("Benchmark saved: %1").arg(out.summary), 10000);
            saved = true;
            Q_EMIT resultSaved(id);
        } catch (const std::exception& e) {
            showMessage(
                QStringLiteral("Measured, but not saved: %1").arg(QString::fromUtf8(e.what())),
                true);
        }
    } else if (out.cancelled) {
        showMessage(QStringLiteral("Cancelled: nothing was saved."), false);
        showStatus(QStringLiteral("Benchmark cancelled"), 6000);
    } else {
        showMessage(out.error, true);
        showStatus(QStringLiteral("Benchmark failed: %1").arg(out.error), 10000);
    }
    updateControls();
    Q_EMIT finished(saved);
}

void BenchPanel::saveSettings() const {
    auto s = settings();
    s->beginGroup(QStringLiteral("bench"));
    s->setValue(QStringLiteral("model"), modelSpec());
    s->setValue(QStringLiteral("backend"), backend_->currentData());
    s->setValue(QStringLiteral("prompt"), prompt_->value());
    s->setValue(QStringLiteral("gen"), gen_->value());
    s->setValue(QStringLiteral("repetitions"), repetitions_->value());
    s->endGroup();
}

void BenchPanel::restoreSettings() {
    auto s = settings();
    s->beginGroup(QStringLiteral("bench"));
    if (!setModelSpec(s->value(QStringLiteral("model")).toString()))
        setModelSpec(QStringLiteral("preset:olmoe-1b-7b?layers=2"));
    setBackend(s->value(QStringLiteral("backend"), QStringLiteral("auto")).toString());
    setTokens(s->value(QStringLiteral("prompt"), 64).toInt(),
              s->value(QStringLiteral("gen"), 32).toInt(),
              s->value(QStringLiteral("repetitions"), 3).toInt());
    s->endGroup();
}

} // namespace crossroads::gui
