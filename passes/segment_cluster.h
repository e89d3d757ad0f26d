/* segment_cluster.h - cycle-free clustering of a DAG by edge contraction (TF-TRT's segmenter),
 * used by the `segment` pass (segment.c).
 *
 * Nodes 0..n-1 are the ops of one block in block order, which is a topological order: every edge
 * i -> j has i < j. Each node has a class; clusters only ever hold nodes of one class. Merging
 * contracts a producer -> consumer edge between two clusters A -> B of the same class, and is
 * refused when the contracted graph would have a cycle, i.e. when some other path leads from A to
 * B through a cluster outside A and B.
 *
 * The test is a DFS over clusters from A, pruned by a topological rank kept for every cluster:
 * a cluster ranked after B cannot reach B. The ranks start as the block positions; after a merge
 * the clusters ranked between A and B are reordered (those A reaches go after the merged cluster,
 * the others before it), which keeps the ranks topological (Pearce and Kelly's local reorder).
 * Cost: a refused or accepted merge visits only clusters ranked between A and B. */
#ifndef KILN_PASSES_SEGMENT_CLUSTER_H
#define KILN_PASSES_SEGMENT_CLUSTER_H

typedef struct SegClusters SegClusters;

/* Starts with every node its own cluster. The successors of node i are
 * succ[succ_start[i] .. succ_start[i+1]) (each > i; repeats allowed); cls[i] is its class. The
 * arrays are copied. */
SegClusters *seg_clusters_new(int n, const int *succ_start, const int *succ, const int *cls);
void seg_clusters_free(SegClusters *s);

/* Contracts every contractible edge, visiting nodes in block order and each node's successors in
 * order, and repeats until a whole sweep merges nothing (a merge can enable another). Returns the
 * number of merges. Deterministic. */
int seg_clusters_merge(SegClusters *s);

/* The representative node of node i's cluster. */
int seg_cluster_of(SegClusters *s, int i);
/* The class of node i's cluster, and changing it (for the whole cluster). */
int seg_cluster_class(SegClusters *s, int i);
void seg_cluster_set_class(SegClusters *s, int i, int cls);
/* The nodes of node i's cluster, written into out (room for n), in no particular order;
 * returns their count. */
int seg_cluster_members(SegClusters *s, int i, int *out);

#endif
