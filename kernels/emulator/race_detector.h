// The emulator's checker: sees every load and store a kernel makes and reports data races,
// out-of-bounds accesses and reads of shared memory the block has not written.
//
// emulator.py compiles a kernel with g++'s -fsanitize=thread, which turns each memory access
// into a call of __tsan_readN / __tsan_writeN (address); this header defines those calls
// instead of linking ThreadSanitizer's runtime. Each access is checked against the launch's
// regions (the global arrays of the arguments, dynamic shared memory, static shared memory)
// and recorded in a shadow word per 4 bytes: the last write and up to two reads, each with
// the block, the thread, the block's barrier epoch and the warp's synchronisation epoch.
// Two accesses to one word, one of them a write and not both atomic, race unless they are
// from the same thread, or the same block with a __syncthreads between them, or the same
// warp with a warp synchronisation between them. Accesses from different blocks of one
// launch never order each other: on a GPU the blocks run at the same time.
#pragma once

#include <link.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define EMULATOR_RUNTIME __attribute__((no_sanitize("thread"), noinline))

namespace emulator {

// The kinds of fault, as the tag that starts a report (scratchgen/cuda.py maps each to a
// KernelFault subclass).
enum class Fault { none, race, out_of_bounds, uninitialized, barrier, shuffle };

inline const char* fault_tag(Fault fault) {
    switch (fault) {
        case Fault::race: return "[race] ";
        case Fault::out_of_bounds: return "[out-of-bounds] ";
        case Fault::uninitialized: return "[uninitialized] ";
        case Fault::barrier: return "[barrier] ";
        case Fault::shuffle: return "[shuffle] ";
        default: return "";
    }
}

[[noreturn]] void fail(const std::string& message, Fault fault);
std::string describe_thread(std::uint32_t linear);
std::string describe_block(std::uint32_t linear);

// A global array of the launch, as emulator.py passes it (ctypes mirror there).
struct ArrayRegion {
    const char* name;
    std::uint64_t address;
    std::uint64_t bytes;
    std::uint32_t itemsize;
};

struct Access {
    std::uint32_t block, thread;  // thread: linear index + 1; 0 means no access
    std::uint32_t epoch, warp_epoch;
    bool write, atomic;
};

struct Shadow {
    Access write, reads[2];
};

struct Region {
    std::string name;
    std::uintptr_t begin, end;
    std::uint32_t itemsize;
    bool shared;
    std::vector<Shadow> shadow;  // one per 4-byte word, allocated at the region's first access
};

// Who is accessing memory now, kept current by block_scheduler.h.
struct Context {
    bool in_kernel;              // a fiber runs (accesses of the scheduler itself are not checked)
    std::uint32_t block, thread;  // linear indices
    std::uint32_t epoch, warp_epoch;
    std::uintptr_t stack_begin, stack_end;
};

struct Detector {
    Context now;
    std::vector<Region> regions;          // the arguments' arrays, then dynamic and static shared memory
    std::uintptr_t image_begin, image_end;  // this shared library in memory (code, constants, built-ins)
    std::vector<std::uintptr_t> static_shared_words;  // words of static shared memory ever touched, to poison
    std::vector<bool> static_shared_touched;          // the same, as one flag per word of the segment
};

inline Detector detector{};

constexpr std::size_t static_shared_region = 0, dynamic_shared_region = 1;  // counted from the end

// ---- the library's own memory: the zero-initialised part of its writable segment (.bss)
// holds the static __shared__ arrays, beside the emulator's own variables

inline int find_image(dl_phdr_info* info, std::size_t, void* found) {
    const auto marker = reinterpret_cast<std::uintptr_t>(&find_image);  // an address inside this library
    auto* ranges = static_cast<std::uintptr_t*>(found);
    std::uintptr_t low = UINTPTR_MAX, high = 0, writable_low = UINTPTR_MAX, writable_high = 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& segment = info->dlpi_phdr[i];
        if (segment.p_type != PT_LOAD) continue;
        const std::uintptr_t begin = info->dlpi_addr + segment.p_vaddr, end = begin + segment.p_memsz;
        low = std::min(low, begin), high = std::max(high, end);
        if (segment.p_flags & PF_W)
            writable_low = std::min(writable_low, begin + segment.p_filesz), writable_high = std::max(writable_high, end);
    }
    if (marker < low || marker >= high) return 0;
    ranges[0] = low, ranges[1] = high, ranges[2] = writable_low, ranges[3] = writable_high;
    return 1;
}

// Sets up the regions of one launch: the arrays, then the two shared memories.
EMULATOR_RUNTIME inline void begin_launch(const ArrayRegion* arrays, std::uint32_t count) {
    static std::uintptr_t ranges[4] = {};  // this library's image: found once, it does not move
    if (!ranges[1]) dl_iterate_phdr(find_image, ranges);
    detector.image_begin = ranges[0], detector.image_end = ranges[1];
    detector.regions.clear();
    for (std::uint32_t i = 0; i < count; ++i)
        if (arrays[i].address && arrays[i].bytes)
            detector.regions.push_back({arrays[i].name, arrays[i].address, arrays[i].address + arrays[i].bytes,
                                        arrays[i].itemsize, false, {}});
    detector.regions.push_back({"dynamic shared memory", 0, 0, 4, true, {}});
    detector.regions.push_back({"static shared memory", ranges[2], ranges[3], 4, true, {}});
    detector.static_shared_touched.assign((ranges[3] - ranges[2] + 3) / 4, false);
    detector.static_shared_words.clear();
    detector.now = {};
}

inline Region& shared_region(std::size_t which) {
    return detector.regions[detector.regions.size() - 1 - which];
}

// A new block: fresh shared memory, 0xff bytes (NaN as floats) wherever a block touched it.
EMULATOR_RUNTIME inline void begin_block(void* dynamic_shared, std::uint64_t dynamic_bytes) {
    Region& dynamic = shared_region(dynamic_shared_region);
    dynamic.begin = reinterpret_cast<std::uintptr_t>(dynamic_shared), dynamic.end = dynamic.begin + dynamic_bytes;
    std::fill(dynamic.shadow.begin(), dynamic.shadow.end(), Shadow{});
    Region& statics = shared_region(static_shared_region);
    std::fill(statics.shadow.begin(), statics.shadow.end(), Shadow{});
    for (std::uintptr_t word : detector.static_shared_words) std::memset(reinterpret_cast<void*>(word), 0xff, 4);
}

inline bool ordered(const Access& before, const Access& now) {
    if (!before.thread) return true;
    if (before.block != now.block) return false;
    if (before.thread == now.thread || before.epoch != now.epoch) return true;
    const bool same_warp = (before.thread - 1) / 32 == (now.thread - 1) / 32;
    return same_warp && before.warp_epoch != now.warp_epoch;
}

inline bool conflicts(const Access& before, const Access& now) {
    return before.thread && (before.write || now.write) && !(before.atomic && now.atomic) && !ordered(before, now);
}

inline std::string describe_access(const Access& access) {
    return "thread " + describe_thread(access.thread - 1) + " of block " + describe_block(access.block) + " " +
           (access.atomic ? "atomically updates" : access.write ? "writes" : "reads");
}

[[noreturn]] inline void report_race(const Region& region, std::uintptr_t address, const Access& before,
                                     const Access& now) {
    const std::uintptr_t offset = address - region.begin;
    const std::string where = region.shared ? region.name + " at byte " + std::to_string(offset)
                                            : region.name + "[" + std::to_string(offset / region.itemsize) + "]";
    const std::string between = before.block != now.block
        ? "different blocks of one launch, not both atomic"
        : "no __syncthreads (or warp synchronisation of one warp) between them";
    fail("data race on " + where + ": " + describe_access(now) + " it, and " + describe_access(before) +
         " it, with " + between, Fault::race);
}

inline void check_word(Region& region, std::uintptr_t address, const Access& now) {
    Shadow& word = region.shadow[(address - region.begin) / 4];
    if (conflicts(word.write, now)) report_race(region, address, word.write, now);
    if (region.shared && !now.write && !now.atomic && !word.write.thread)
        fail("read of " + region.name + " at byte " + std::to_string(address - region.begin) + " by thread " +
             describe_thread(now.thread - 1) + ", which no thread of block " + describe_block(now.block) +
             " has written (shared memory starts undefined in every block)", Fault::uninitialized);
    if (now.write || now.atomic) {
        for (const Access& read : word.reads)
            if (conflicts(read, now)) report_race(region, address, read, now);
        word.write = now;
        word.reads[0] = word.reads[1] = Access{};
        return;
    }
    for (Access& read : word.reads)
        if (!read.thread || ordered(read, now)) {
            read = now;
            return;
        }
}

// Where an access outside every region falls, told from the nearest region: "at x[100],
// past the end of x (100 elements)".
inline std::string describe_outside(std::uintptr_t address) {
    const Region* nearest = nullptr;
    std::uintptr_t distance = UINTPTR_MAX;
    for (const Region& region : detector.regions) {
        if (region.begin == region.end) continue;
        const std::uintptr_t d = address < region.begin ? region.begin - address
                                 : address < region.end ? 0 : address - region.end;
        if (d < distance) distance = d, nearest = &region;
    }
    if (!nearest) return "outside every array of the launch";
    const bool before = address < nearest->begin;
    const std::string side = before ? "before the start of " : "past the end of ";
    if (nearest->shared) return side + nearest->name + " (" + std::to_string(nearest->end - nearest->begin) + " bytes)";
    const auto offset = static_cast<std::intptr_t>(address - nearest->begin);
    const auto itemsize = static_cast<std::intptr_t>(nearest->itemsize);
    const std::intptr_t index = offset >= 0 ? offset / itemsize : -((-offset + itemsize - 1) / itemsize);
    return "at " + nearest->name + "[" + std::to_string(index) + "], " + side + nearest->name + " (" +
           std::to_string((nearest->end - nearest->begin) / nearest->itemsize) + " elements)";
}

inline bool is_builtin_variable(std::uintptr_t address);

// Every access of kernel code comes here (via check_access).
inline void check_kernel_access(const void* pointer, std::size_t size, bool write, bool atomic) {
    const Context& now = detector.now;
    const auto address = reinterpret_cast<std::uintptr_t>(pointer);
    if (address >= now.stack_begin && address < now.stack_end) return;  // the thread's own locals
    const Access access{now.block, now.thread + 1, now.epoch, now.warp_epoch, write, atomic};
    for (Region& region : detector.regions) {
        if (address < region.begin || address >= region.end) continue;
        if (address + size > region.end) break;  // runs past the end: out of bounds
        if (&region == &shared_region(static_shared_region)) {
            if (is_builtin_variable(address)) return;
            for (std::uintptr_t word = address & ~std::uintptr_t(3); word < address + size; word += 4)
                if (!detector.static_shared_touched[(word - region.begin) / 4]) {
                    detector.static_shared_touched[(word - region.begin) / 4] = true;
                    detector.static_shared_words.push_back(word);
                }
        }
        if (region.shadow.empty()) region.shadow.assign((region.end - region.begin + 3) / 4, Shadow{});
        for (std::uintptr_t word = address & ~std::uintptr_t(3); word < address + size; word += 4)
            check_word(region, word, access);
        return;
    }
    if (address >= detector.image_begin && address < detector.image_end && !write) return;  // constants, code
    fail(std::string(write ? "write" : "read") + " of " + std::to_string(size) + " bytes by thread " +
         describe_thread(now.thread) + " of block " + describe_block(now.block) + " " + describe_outside(address),
         Fault::out_of_bounds);
}

// Checks are off while they run: the library code they call (std::vector, std::string) is
// instrumented too.
EMULATOR_RUNTIME inline void check_access(const void* pointer, std::size_t size, bool write, bool atomic = false) {
    if (!detector.now.in_kernel) return;
    detector.now.in_kernel = false;
    check_kernel_access(pointer, size, write, atomic);
    detector.now.in_kernel = true;
}

}  // namespace emulator

// ---- the calls that g++ -fsanitize=thread inserts, defined here instead of by libtsan

#define EMULATOR_ACCESS_HOOKS(size)                                                                              \
    extern "C" EMULATOR_RUNTIME void __tsan_read##size(void* a) { emulator::check_access(a, size, false); }          \
    extern "C" EMULATOR_RUNTIME void __tsan_write##size(void* a) { emulator::check_access(a, size, true); }          \
    extern "C" EMULATOR_RUNTIME void __tsan_unaligned_read##size(void* a) { emulator::check_access(a, size, false); } \
    extern "C" EMULATOR_RUNTIME void __tsan_unaligned_write##size(void* a) { emulator::check_access(a, size, true); }
EMULATOR_ACCESS_HOOKS(1)
EMULATOR_ACCESS_HOOKS(2)
EMULATOR_ACCESS_HOOKS(4)
EMULATOR_ACCESS_HOOKS(8)
EMULATOR_ACCESS_HOOKS(16)
#undef EMULATOR_ACCESS_HOOKS
extern "C" EMULATOR_RUNTIME void __tsan_read_range(void* a, unsigned long size) { emulator::check_access(a, size, false); }
extern "C" EMULATOR_RUNTIME void __tsan_write_range(void* a, unsigned long size) { emulator::check_access(a, size, true); }
extern "C" EMULATOR_RUNTIME void __tsan_init() {}
extern "C" EMULATOR_RUNTIME void __tsan_func_entry(void*) {}
extern "C" EMULATOR_RUNTIME void __tsan_func_exit() {}
extern "C" EMULATOR_RUNTIME void __tsan_vptr_update(void**, void*) {}
extern "C" EMULATOR_RUNTIME void __tsan_vptr_read(void**) {}
