"""Clusters of a space with keyword labels.

HDBSCAN (Campello, Moulavi & Sander 2013; scikit-learn's implementation) on a reduced space finds clusters
of any shape and leaves outliers unclustered (label -1); k-means is there on request. The reduced space is
the UMAP layout when one is given, as in Latent Scope and BERTopic: density-based clustering needs few
dimensions (on 5,000 KJV verses, HDBSCAN on 16 PCA dimensions left 91% of the items unclustered, in 2
clusters). When HDBSCAN's "excess of mass" selection lumps most items into one cluster, the leaves of the
cluster tree are taken instead (recorded as ``selection``).

Each cluster is labelled by class-based TF-IDF (Grootendorst 2022, BERTopic): all texts of a cluster form one
document, and a term's weight is its frequency in that cluster times ``log(1 + A / f_t)``, with ``A`` the
mean number of words per cluster and ``f_t`` the term's frequency over all clusters. Before that, the
corpus's own stop words are learned and left out (:func:`corpus_stop_words`): words frequent in the corpus and
spread evenly over the clusters ("unto", "thou", "hath" in the King James Bible; the word itself in every
occurrence of a contexts workspace), which say nothing about any one cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..search.exact import normalize

METHODS = ("hdbscan", "kmeans")


@dataclass
class Clustering:
    """Cluster labels and their descriptions.

    Attributes
    ----------
    labels
        int32, shape ``(n,)``; -1 marks items HDBSCAN leaves unclustered.
    clusters
        One dict per cluster: ``id``, ``size``, ``keywords`` (list of str), ``label`` (str).
    params
        Parameters used.
    """

    labels: np.ndarray
    clusters: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


def cluster(
    vectors: np.ndarray,
    texts: list[str] | None = None,
    *,
    reduced: np.ndarray | None = None,
    method: str = "hdbscan",
    n_clusters: int | None = None,
    min_cluster_size: int | None = None,
    dims: int = 16,
    seed: int = 0,
    keywords: int = 5,
) -> Clustering:
    """Cluster ``vectors`` (shape ``(n, d)``) and label the clusters from ``texts``.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``; compared by cosine (rows are normalised first).
    texts
        ``n`` texts for keyword labels (``None``: clusters are labelled by number).
    reduced
        Low-dimensional coordinates to cluster, shape ``(n, c)`` (e.g. the UMAP layout); default: PCA to
        ``dims`` dimensions.
    method
        ``hdbscan`` (default) or ``kmeans``.
    n_clusters
        For k-means (default ``round(sqrt(n / 2))``, at most 50).
    min_cluster_size
        For HDBSCAN (default ``max(5, n // 100)``, at most 500).
    keywords
        Keywords per cluster.
    dims
        PCA dimensions the clustering runs in.
    """
    from sklearn.decomposition import PCA

    if method not in METHODS:
        raise ValueError(f"unknown clustering method {method!r}; use one of {', '.join(METHODS)}")
    x = normalize(vectors)
    n = len(x)
    params: dict[str, Any] = {"method": method, "seed": seed}
    if n < 3:
        labels = np.zeros(n, np.int32)
    else:
        if reduced is not None:
            z = np.asarray(reduced, dtype=np.float64)
            params["on"] = "layout"
        else:
            d = int(min(dims, x.shape[1], n - 1))
            z = PCA(n_components=d, random_state=seed).fit_transform(x) if d < x.shape[1] else x
            params["on"], params["dims"] = "pca", d
        if method == "kmeans":
            from sklearn.cluster import KMeans

            k = int(n_clusters or min(50, max(2, round(np.sqrt(n / 2)))))
            k = min(k, n)
            labels = KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(z).astype(np.int32)
            params["n_clusters"] = k
        else:
            from sklearn.cluster import HDBSCAN

            m = int(min_cluster_size or min(500, max(5, n // 100)))
            m = max(2, min(m, n))
            params["min_cluster_size"] = m
            params["selection"] = "eom"
            labels = HDBSCAN(min_cluster_size=m, min_samples=min(m, 5), copy=True).fit_predict(z).astype(np.int32)
            sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(1, int)
            if sizes.max() > n / 2:
                # "excess of mass" merged most items into one cluster: take the leaves of the cluster tree
                labels = HDBSCAN(min_cluster_size=m, min_samples=min(m, 5), copy=True,
                                 cluster_selection_method="leaf").fit_predict(z).astype(np.int32)
                params["selection"] = "leaf"
    ids = sorted(int(c) for c in np.unique(labels) if c >= 0)
    kw: dict[int, list[str]] = {}
    if texts is not None:
        stop = corpus_stop_words(texts, labels)
        params["corpus_stop_words"] = stop[:30]  # the most common first: what the labels leave out
        kw = class_tfidf_keywords(texts, labels, top=keywords, stop=stop)
    clusters = []
    for c in ids:
        words = kw.get(c, [])
        clusters.append({"id": c, "size": int((labels == c).sum()), "keywords": words,
                         "label": " · ".join(words[:3]) if words else f"cluster {c}"})
    return Clustering(labels, clusters, params)


#: A corpus stop word is in at least this share of the texts ...
STOP_MIN_DF = 0.02
#: ... and spread this evenly over the clusters (normalised entropy of its per-cluster text rates, 0..1). On 5,000
#: KJV verses by division: unto 0.97, thou 0.95, hath 0.96, ye 0.91 are out; king 0.72, israel 0.76, jesus 0.60,
#: david 0.48 stay.
STOP_EVENNESS = 0.9
#: Words: two or more letters (no digits or underscores).
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"


def corpus_stop_words(texts: list[str], labels: np.ndarray, *, min_df: float = STOP_MIN_DF,
                      evenness: float = STOP_EVENNESS) -> list[str]:
    """Words of this corpus that describe no cluster: in at least ``min_df`` of the clustered texts (and 3)
    and about as common in every cluster.

    Evenness is the normalised entropy of the word's rate (share of a cluster's texts holding it) over the
    clusters: 1 when every cluster holds it equally often, 0 when one cluster alone does. Cluster sizes do not
    weigh in (rates, not counts).

    Parameters
    ----------
    texts
        ``n`` texts.
    labels
        ``(n,)`` cluster ids; -1 (unclustered) is ignored.

    Returns
    -------
    list of str
        The stop words, most common first.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    keep = labels >= 0
    ids = np.unique(labels[keep])
    if len(ids) < 2:
        return []
    kept = [t for t, k in zip(texts, keep, strict=True) if k]
    try:
        vec = CountVectorizer(stop_words="english", binary=True, token_pattern=TOKEN_PATTERN,
                              min_df=max(3, int(np.ceil(min_df * len(kept)))))
        x = vec.fit_transform(kept).tocsr()
    except ValueError:  # no word is common enough
        return []
    lab = labels[keep]
    rates = np.stack([np.asarray(x[lab == c].sum(axis=0)).ravel() / max(int((lab == c).sum()), 1) for c in ids])
    p = rates / np.maximum(rates.sum(axis=0, keepdims=True), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=0) / np.log(len(ids))
    words = np.array(vec.get_feature_names_out())
    df = np.asarray(x.sum(axis=0)).ravel()
    out = np.flatnonzero(h >= evenness)
    return [str(words[j]) for j in out[np.argsort(-df[out], kind="stable")]]


def class_tfidf_keywords(texts: list[str], labels: np.ndarray, *, top: int = 5,
                         stop: list[str] | None = None) -> dict[int, list[str]]:
    """The ``top`` terms of each cluster by class-based TF-IDF (see the module docstring), leaving out English
    stop words and ``stop`` (default: :func:`corpus_stop_words` of these texts)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    ids = sorted(int(c) for c in np.unique(labels) if c >= 0)
    if not ids:
        return {}
    if stop is None:
        stop = corpus_stop_words(texts, labels)
    docs = [" ".join(t for t, lab in zip(texts, labels, strict=True) if lab == c) for c in ids]
    try:
        vec = CountVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | set(stop)), ngram_range=(1, 1), min_df=1,
                              max_features=50_000, token_pattern=TOKEN_PATTERN)
        tf = vec.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # no words at all
        return {c: [] for c in ids}
    words = np.array(vec.get_feature_names_out())
    if len(ids) > 2:  # a word in every cluster describes none of them ("report" in every text)
        tf[:, (tf > 0).all(axis=0)] = 0.0
    tf /= np.maximum(tf.sum(axis=1, keepdims=True), 1.0)
    counts = vec.transform(docs).toarray().astype(np.float64)
    avg = counts.sum() / len(ids)
    idf = np.log1p(avg / np.maximum(counts.sum(axis=0), 1.0))
    w = tf * idf
    out = {}
    for row, c in enumerate(ids):
        order = np.argsort(-w[row])[:top]
        out[c] = [str(words[j]) for j in order if w[row, j] > 0]
    return out
