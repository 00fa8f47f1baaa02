#include "broker/core/ticket.h"

#include "broker/core/worker.h"

namespace simq::core {

void Ticket::Resolve(const absl::Status& status) {
  if (!status.ok()) failed_.store(true, std::memory_order_release);
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) Complete();
}

void Ticket::Then(const std::shared_ptr<Ticket>& dependent) {
  dependent->Depend();
  {
    absl::MutexLock lock(&mu_);
    if (!done_.load(std::memory_order_acquire)) {
      dependents_.push_back(dependent);
      return;
    }
  }
  dependent->Resolve(failed() ? absl::DataLossError("not stored") : absl::OkStatus());
}

void Ticket::Complete() {
  std::vector<std::shared_ptr<Ticket>> dependents;
  {
    absl::MutexLock lock(&mu_);
    done_.store(true, std::memory_order_release);
    dependents.swap(dependents_);
  }
  const absl::Status status = failed() ? absl::DataLossError("not stored") : absl::OkStatus();
  for (const std::shared_ptr<Ticket>& d : dependents) d->Resolve(status);
  if (owner_ != nullptr) owner_->TicketDone();
}

}  // namespace simq::core
