"""Words and their occurrences (arrays and texts only, numeric-pure).

- :mod:`.tokens`: the one tokeniser of word spaces, averaged word vectors and contexts (Unicode words, lower case).
"""
