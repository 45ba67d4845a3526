#pragma once

namespace asp::detail {

/// The bits of the loop's attention word: what makes its replay path look closer than the next
/// piece of work, in one word, so that the path needs one load to know of all of it. The word
/// is the loop's (`loop::m_attention`, on a cache line of its own); this is the one list of
/// what it holds.
struct attention {
  /// `stop()` was called, from any thread or a signal handler; the run consumes it as it ends.
  static constexpr unsigned stop_bit = 1;
  /// Another thread posted work or asked for a pacing change (detail::loop_remote sets it and
  /// clears it once the inbox has stayed empty a while).
  static constexpr unsigned input_bit = 2;
  /// The loop paces its replay; set and cleared on the loop's thread only.
  static constexpr unsigned pacing_bit = 4;
};

}  // namespace asp::detail
