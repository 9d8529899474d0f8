// The engine's verbs: `run` (greedy generation, logits out) and `bench` (llama-bench-like
// throughput against measured and datasheet peaks, saved to the store).
#pragma once

#include <QString>
#include <QStringList>

namespace crossroads::cli {

int runCommand(const QStringList& arguments, const QString& storePath);
int benchCommand(const QStringList& arguments, const QString& storePath);

} // namespace crossroads::cli
