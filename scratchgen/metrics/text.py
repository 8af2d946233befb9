"""Metrics of generated text (the character-level WGAN-GP language model, Gulrajani et al. 2017):
the Jensen-Shannon divergence between the character n-gram distributions of samples and of
held-out text, as the paper's reference code monitors it (gan_language.py, language_helpers.py:
NgramLanguageModel.js_with, in bits; n-grams are counted inside each sequence, never across two),
and the fraction of the samples' words that are words of the corpus.

    ngram_js(samples, reference, n=4)                 # 0 (the same statistics) to 1 bit (disjoint)
    real_word_fraction(samples, vocabulary_words)     # in [0, 1]
"""
import collections
import math
import re

WORD = re.compile(r"[A-Za-z']+")


def ngram_counts(sequences, n):
    """Counter of the character n-grams inside each str of `sequences`."""
    counts = collections.Counter()
    for sequence in sequences:
        counts.update(sequence[i:i + n] for i in range(len(sequence) - n + 1))
    return counts


def ngram_js(samples, reference, n):
    """JS(P || Q) in bits between the n-gram distributions P of `samples` and Q of `reference`
    (lists of strs): 1/2 KL(P || M) + 1/2 KL(Q || M), M = (P + Q) / 2, with 0 log 0 = 0."""
    p, q = ngram_counts(samples, n), ngram_counts(reference, n)
    total_p, total_q = sum(p.values()), sum(q.values())
    if total_p == 0 or total_q == 0:
        raise ValueError(f"ngram_js: no {n}-grams in the {'samples' if total_p == 0 else 'reference'}")
    divergence = 0.0
    for gram in p.keys() | q.keys():
        pi, qi = p[gram] / total_p, q[gram] / total_q
        mi = (pi + qi) / 2
        if pi > 0:
            divergence += 0.5 * pi * math.log2(pi / mi)
        if qi > 0:
            divergence += 0.5 * qi * math.log2(qi / mi)
    return min(max(divergence, 0.0), 1.0)  # in [0, 1] bit; the sum's rounding depends on the set's order


def words(text):
    """The lower-cased words (runs of letters and apostrophes) of a str."""
    return [word.lower() for word in WORD.findall(text)]


def real_word_fraction(samples, known_words):
    """The fraction of the words of `samples` (strs) that are in `known_words` (a set of lower-case
    words); a sample's first and last word may be cut by the sequence's ends, as in the data."""
    found = [word for sample in samples for word in words(sample)]
    return sum(word in known_words for word in found) / len(found) if found else 0.0


def text_sample_metrics(samples, held_out, train_text, orders=(1, 2, 3, 4)):
    """Metrics of `samples` (strs of one length L) against `held_out` (strs, the held-out text cut
    as the training data is) and the training text `train_text` (one str): {"js_1" ... "js_4": JS
    of the samples' n-grams to the held-out ones; "js_4_held_out_to_train": the same for as many
    consecutive training sequences of length L (what real text scores at this sample count);
    "real_word_fraction": of the samples' words, those that are words of the training text;
    "real_word_fraction_held_out": the same for the held-out sequences (real text's value)}."""
    n, length = len(samples), len(samples[0])
    reference = list(held_out)
    train_reference = [train_text[i * length:(i + 1) * length] for i in range(n)]
    known = set(words(train_text))
    results = {f"js_{order}": ngram_js(samples, reference, order) for order in orders}
    results["js_4_held_out_to_train"] = ngram_js(train_reference, reference, 4)
    results["real_word_fraction"] = real_word_fraction(samples, known)
    results["real_word_fraction_held_out"] = real_word_fraction(reference, known)
    return results
