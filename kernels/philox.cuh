// Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as 1, 2,
// 3"): four random 32-bit words as a pure function of a 128-bit counter and a 64-bit key, so
// each thread draws its own numbers with no state to carry: ten rounds of a multiply (its high
// and low halves) and xors, the key bumped by a Weyl sequence between rounds.
#pragma once

struct Philox4 {
    unsigned int word[4];
};

__device__ __forceinline__ Philox4 philox4x32_10(Philox4 counter, unsigned int key0, unsigned int key1) {
    for (int round = 0; round < 10; ++round) {
        const unsigned long long product0 = 0xD2511F53ull * counter.word[0];
        const unsigned long long product1 = 0xCD9E8D57ull * counter.word[2];
        const Philox4 next = {{(unsigned int)(product1 >> 32) ^ counter.word[1] ^ key0, (unsigned int)product1,
                               (unsigned int)(product0 >> 32) ^ counter.word[3] ^ key1, (unsigned int)product0}};
        counter = next;
        key0 += 0x9E3779B9u;
        key1 += 0xBB67AE85u;
    }
    return counter;
}

// A uniform value in [0, 1) from the top 24 bits of a random word: k / 2^24, exact in float and double.
template <class T>
__device__ __forceinline__ T unit_uniform(unsigned int bits) {
    return T(bits >> 8) * T(5.9604644775390625e-08);
}
