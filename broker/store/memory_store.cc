#include "broker/store/memory_store.h"

namespace simq::store {

absl::StatusOr<LoadedState> MemoryStore::Load() {
  KvBatch repairs;
  absl::StatusOr<LoadedState> state;
  {
    absl::MutexLock lock(&backing_->mu);
    auto it = backing_->kv.begin();
    state = BuildLoadedState(
        [&](std::string_view* key, std::string_view* value) {
          if (it == backing_->kv.end()) return false;
          *key = it->first;
          *value = it->second;
          ++it;
          return true;
        },
        &repairs);
    if (state.ok()) Apply(repairs);
  }
  return state;
}

void MemoryStore::Commit(std::unique_ptr<WriteBatch> batch,
                         std::function<void(absl::Status)> done) {
  absl::Status status;
  {
    absl::MutexLock lock(&backing_->mu);
    if (backing_->fail_writes) {
      status = absl::ResourceExhaustedError("memory store: writes fail (simulated full disk)");
    } else {
      Apply(static_cast<const KvBatch&>(*batch));
    }
  }
  if (done) done(status);
}

absl::Status MemoryStore::Recover() {
  absl::MutexLock lock(&backing_->mu);
  if (backing_->fail_writes) return absl::ResourceExhaustedError("memory store: still failing");
  return absl::OkStatus();
}

void MemoryStore::set_fail_writes(bool fail) {
  absl::MutexLock lock(&backing_->mu);
  backing_->fail_writes = fail;
}

size_t MemoryStore::key_count() const {
  absl::MutexLock lock(&backing_->mu);
  return backing_->kv.size();
}

void MemoryStore::Apply(const KvBatch& batch) {
  for (const KvOp& op : batch.ops()) {
    switch (op.kind) {
      case KvOp::Kind::kPut: backing_->kv[op.key] = op.value; break;
      case KvOp::Kind::kDelete: backing_->kv.erase(op.key); break;
      case KvOp::Kind::kDeleteRange:
        backing_->kv.erase(backing_->kv.lower_bound(op.key), backing_->kv.lower_bound(op.value));
        break;
    }
  }
}

}  // namespace simq::store
