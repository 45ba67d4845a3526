#pragma once

#include <asp/detail/callback.hpp>
#include <asp/time.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace asp {
class loop;
}

namespace asp::detail {

/// The loop's inbox of work posted from other threads: an unbounded multi-producer,
/// single-consumer queue with no lock (the shape of crossbeam's SegQueue, with one reader).
///
/// Slots come in blocks. A producer claims slots with one compare-and-swap on the tail index —
/// a whole batch at once when it fits in the current block — fills them and marks each
/// written; the producer that claims a block's last slot links the next block. The loop reads
/// the written slots in the order they were claimed and frees each block once it has read it.
/// Nobody waits for anybody, except the loop at `close`, for slots claimed and not yet written.
/// The block last read is kept for the next link, so a steady flow allocates nothing.
class post_inbox {
 public:
  /// One posted piece of work, on its own cache line.
  struct alignas(64) slot {
    posted_fn<loop> fn;
    time_point stamp{};
    std::atomic<bool> written{false};
  };
  static constexpr std::size_t block_slots = 1023;
  struct block {
    slot slots[block_slots];
    std::atomic<block*> next{nullptr};
  };
  /// Slots [first, first + count) of `where`, claimed by one producer, which must mark each
  /// written.
  struct claim {
    block* where;
    std::size_t first;
    std::size_t count;
  };

  post_inbox();
  ~post_inbox();
  post_inbox(const post_inbox&) = delete;
  post_inbox& operator=(const post_inbox&) = delete;

  /// From any thread: claims between 1 and `wanted` (at least 1) consecutive slots. Throws
  /// std::logic_error once the inbox is closed, and std::bad_alloc; nothing is claimed then.
  claim reserve(std::size_t wanted);

  /// On the loop's thread: calls `each(stamp, fn)` for every written slot, in claim order,
  /// up to the first slot that is not written yet. Returns how many slots it read.
  template <class Each>
  std::size_t read(Each&& each) {
    std::size_t count = 0;
    for (;;) {
      if (m_head_slot == block_slots) next_block();
      slot& s = m_head->slots[m_head_slot];
      if (!s.written.load(std::memory_order_acquire)) break;
      if (s.fn) each(s.stamp, std::move(s.fn));  // throws before taking it: read again later
      s.written.store(false, std::memory_order_relaxed);  // for the block's next use
      ++m_head_slot;
      ++m_head_index;
      ++count;
    }
    return count;
  }

  /// On the loop's thread: whether a slot has been claimed that read() has not read (its
  /// producer may still be writing it). Sequentially consistent with the claims.
  bool claimed_unread() const noexcept {
    return (m_tail.load(std::memory_order_seq_cst) & ~closed_bit) > m_head_index;
  }

  /// What posting to a destroyed loop throws: std::logic_error, one text for every way in.
  [[noreturn]] static void throw_closed();

  /// On the loop's thread: refuses later claims, waits for the slots already claimed to be
  /// written, and destroys what they hold. Idempotent.
  void close() noexcept;

 private:
  // The tail index counts `lap` positions a block: its slots, then a marker position that
  // stands for "the next block is being linked". The top bit says closed.
  static constexpr std::uint64_t lap = block_slots + 1;
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;

  void next_block() noexcept;
  std::unique_ptr<block> spare_block();

  alignas(64) std::atomic<std::uint64_t> m_tail{0};
  std::atomic<block*> m_tail_block;
  std::atomic<block*> m_spare{nullptr};  // a read block, its slots empty and not written
  // The reader's side, touched by the loop's thread only.
  alignas(64) block* m_head;
  std::size_t m_head_slot = 0;
  std::uint64_t m_head_index = 0;
};

}  // namespace asp::detail
