// The load generator's engine: connects the scenario's clients, drives them for the run and
// returns what it measured.
//
//   absl::StatusOr<Options> options = ParseOptions(args);
//   absl::StatusOr<Summary> summary = Run(*options, &std::cerr);
//   std::cout << ToJson(*summary);
//
// Design (see README.md): `--threads` event loops, each a plain epoll loop over non-blocking
// sockets that it owns; no coroutine or allocation per message. A publisher's PUBLISH is
// encoded once (PublishTemplate) and each message is a memcpy plus packet id and stamp,
// appended to the connection's write buffer and sent in batches of up to 64 KiB. Receivers
// read up to 1 MiB per recv() into the thread's scratch buffer and parse every complete
// packet in it, queueing acknowledgements that leave in one send() per read. Time is read once
// per batch, not per message.
//
// Phases: set-up (connect, subscribe) → warm-up → measured interval → drain (publishers stop;
// outstanding acknowledgements and deliveries are awaited up to --drain) → disconnect. Counts
// cross threads only through per-publisher atomics (sent, acknowledged, delivered), updated
// once per batch.
#pragma once

#include <ostream>

#include "absl/status/statusor.h"

#include "loadgen/options.h"
#include "loadgen/report.h"

namespace simq::loadgen {

// Runs the scenario; progress lines go to `progress` (nullptr: none). An error status only for
// a run that could not start (bad host, nothing listening); problems during the run are counted
// in the summary.
absl::StatusOr<Summary> Run(const Options& options, std::ostream* progress);

}  // namespace simq::loadgen
