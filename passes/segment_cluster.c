/* segment_cluster.c - union-find clusters with a topological rank per cluster (see
 * segment_cluster.h for the algorithm and its contract).
 *
 * Invariant: every edge between two different clusters goes from a lower rank to a higher one.
 * order[r] is the representative at rank r, or -1 for a slot a merge has freed. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "segment_cluster.h"

struct SegClusters {
  int n;
  int *succ_start, *succ;
  int *parent;      /* union-find; a representative is its own parent */
  int *size;        /* at representatives: member count (union by size) */
  int *head, *tail; /* at representatives: the member list */
  int *next_member; /* per node: the next node of its cluster, or -1 */
  int *cls;         /* at representatives */
  int *rank;        /* at representatives: slot in order */
  int *order;
  int *stamp;       /* at representatives: DFS visit mark */
  int cur_stamp;
  int *stack, *before, *after; /* scratch, n each */
};

static int *xmalloc_ints(int n) {
  int *p = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
  if (!p)
    abort();
  return p;
}

SegClusters *seg_clusters_new(int n, const int *succ_start, const int *succ, const int *cls) {
  SegClusters *s = calloc(1, sizeof *s);
  if (!s)
    abort();
  s->n = n;
  s->succ_start = xmalloc_ints(n + 1);
  memcpy(s->succ_start, succ_start, sizeof(int) * (size_t)(n + 1));
  int nedges = succ_start[n];
  s->succ = xmalloc_ints(nedges);
  memcpy(s->succ, succ, sizeof(int) * (size_t)nedges);
  int **arrays[] = {&s->parent, &s->size,  &s->head,  &s->tail,  &s->next_member, &s->cls,
                    &s->rank,   &s->order, &s->stamp, &s->stack, &s->before,      &s->after};
  for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
    *arrays[k] = xmalloc_ints(n);
  for (int i = 0; i < n; i++) {
    s->parent[i] = s->head[i] = s->tail[i] = s->rank[i] = s->order[i] = i;
    s->size[i] = 1;
    s->next_member[i] = -1;
    s->cls[i] = cls[i];
    s->stamp[i] = 0;
  }
  return s;
}

void seg_clusters_free(SegClusters *s) {
  if (!s)
    return;
  int *arrays[] = {s->succ_start, s->succ, s->parent, s->size,  s->head,  s->tail,   s->next_member,
                   s->cls,        s->rank, s->order,  s->stamp, s->stack, s->before, s->after};
  for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
    free(arrays[k]);
  free(s);
}

int seg_cluster_of(SegClusters *s, int i) {
  while (s->parent[i] != i) {
    s->parent[i] = s->parent[s->parent[i]]; /* path halving */
    i = s->parent[i];
  }
  return i;
}

int seg_cluster_class(SegClusters *s, int i) { return s->cls[seg_cluster_of(s, i)]; }

void seg_cluster_set_class(SegClusters *s, int i, int cls) { s->cls[seg_cluster_of(s, i)] = cls; }

int seg_cluster_members(SegClusters *s, int i, int *out) {
  int k = 0;
  for (int x = s->head[seg_cluster_of(s, i)]; x >= 0; x = s->next_member[x])
    out[k++] = x;
  return k;
}

/* Is there a path from cluster a to cluster b (rank[a] < rank[b]) other than a's direct edges?
 * Marks with the current stamp every cluster the DFS reaches ranked between a and b: exactly the
 * clusters of that window that a reaches. */
static bool other_path(SegClusters *s, int a, int b) {
  int sp = 0, rb = s->rank[b];
  s->stamp[a] = ++s->cur_stamp;
  s->stack[sp++] = a;
  while (sp) {
    int c = s->stack[--sp];
    for (int x = s->head[c]; x >= 0; x = s->next_member[x])
      for (int e = s->succ_start[x]; e < s->succ_start[x + 1]; e++) {
        int d = seg_cluster_of(s, s->succ[e]);
        if (d == c)
          continue;
        if (d == b) {
          if (c != a)
            return true;
          continue;
        }
        /* Ranks are topological: a cluster after b reaches nothing at or before b. */
        if (s->stamp[d] == s->cur_stamp || s->rank[d] > rb)
          continue;
        s->stamp[d] = s->cur_stamp;
        s->stack[sp++] = d;
      }
  }
  return false;
}

/* Merges clusters a and b (edge a -> b, no other path) and reorders the ranks between them: the
 * window's clusters that a does not reach first, then the merged cluster, then those a reaches
 * (stamped by other_path). An edge from a reached cluster to an unreached one cannot exist (the
 * latter would be reached), and nothing in the window reaches b, so every edge still goes up. */
static void merge(SegClusters *s, int a, int b) {
  int ra = s->rank[a], rb = s->rank[b], nbefore = 0, nafter = 0;
  for (int r = ra + 1; r < rb; r++) {
    int c = s->order[r];
    if (c < 0)
      continue;
    if (s->stamp[c] == s->cur_stamp)
      s->after[nafter++] = c;
    else
      s->before[nbefore++] = c;
  }
  int keep = s->size[a] >= s->size[b] ? a : b, gone = keep == a ? b : a;
  s->parent[gone] = keep;
  s->size[keep] += s->size[gone];
  s->next_member[s->tail[keep]] = s->head[gone];
  s->tail[keep] = s->tail[gone];
  int r = ra;
  for (int i = 0; i < nbefore; i++, r++)
    s->order[r] = s->before[i], s->rank[s->before[i]] = r;
  s->order[r] = keep;
  s->rank[keep] = r++;
  for (int i = 0; i < nafter; i++, r++)
    s->order[r] = s->after[i], s->rank[s->after[i]] = r;
  for (; r <= rb; r++)
    s->order[r] = -1;
}

int seg_clusters_merge(SegClusters *s) {
  int total = 0, merged;
  do {
    merged = 0;
    for (int u = 0; u < s->n; u++)
      for (int e = s->succ_start[u]; e < s->succ_start[u + 1]; e++) {
        int a = seg_cluster_of(s, u), b = seg_cluster_of(s, s->succ[e]);
        if (a == b || s->cls[a] != s->cls[b])
          continue;
        if (s->rank[a] >= s->rank[b])
          abort(); /* the ranks stopped being topological: a bug here */
        if (other_path(s, a, b))
          continue;
        merge(s, a, b);
        merged++;
      }
    total += merged;
  } while (merged);
  return total;
}
