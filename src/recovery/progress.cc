#include "recovery/progress.h"

namespace kdfs {

const char* PhaseName(RecoveryPhase phase) {
  switch (phase) {
    case RecoveryPhase::kStarting:
      return "starting";
    case RecoveryPhase::kIdle:
      return "idle";
    case RecoveryPhase::kSnapshot:
      return "snapshot";
    case RecoveryPhase::kLoading:
      return "loading";
    case RecoveryPhase::kChunks:
      return "chunks";
    case RecoveryPhase::kWaiting:
      return "waiting";
  }
  return "unknown";
}

nlohmann::json RecoveryProgress::ToJson() const {
  RecoveryState s = Get();
  return {{"phase", PhaseName(s.phase)},
          {"reason", s.reason},
          {"peer", s.peer},
          {"error", s.error},
          {"snapshot_offset", s.snapshot_offset},
          {"snapshot_bytes_done", s.snapshot_bytes_done},
          {"snapshot_bytes_total", s.snapshot_bytes_total},
          {"chunks_done", s.chunks_done},
          {"chunks_total", s.chunks_total},
          {"chunks_failed", s.chunks_failed},
          {"chunk_bytes_done", s.chunk_bytes_done},
          {"bootstraps", s.bootstraps},
          {"divergences", s.divergences},
          {"started_ms", s.started_ms},
          {"finished_ms", s.finished_ms}};
}

}  // namespace kdfs
