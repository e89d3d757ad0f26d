/* kiln-inspect - what is inside an engine bundle: provenance, the sections, input and output
 * bindings, memory, every kernel with the IR ops it implements and its precision, host steps,
 * and the final IR. Like TensorRT's engine inspector; --json for scripts.
 *
 * It reads the bundle with the runtime's own reader and plan parser (compiled into this tool:
 * libkilnrt exports only kiln.h), so what it shows is what libkilnrt would load, checksums
 * included; the kernels' ops come from the bundle's IR, parsed with the compiler's parser. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/text/parse.h"
#include "ir/ir.h"
#include "kiln.h"
#include "runtime/bundle.h"
#include "runtime/plan.h"
#include "tools/common.h"

static const char usage[] =
    "usage: kiln-inspect ENGINE [--json]\n"
    "\n"
    "Prints what ENGINE (a .kiln bundle) holds: provenance, sections, bindings, memory, kernels\n"
    "with their ops and precisions, host steps and the IR. --json prints one JSON object.\n";

static void shape(Buf *b, const RtPlanTensor *t) {
  ir_buf_putc(b, '[');
  for (int i = 0; i < t->rank; i++) {
    if (i)
      ir_buf_putc(b, ',');
    if (t->batched && i == 0)
      ir_buf_putc(b, 'N');
    else
      ir_buf_printf(b, "%lld", (long long)t->dims[i]);
  }
  ir_buf_putc(b, ']');
}

/* The fused op named sym in the IR, or NULL. */
static const Op *find_kernel(const Module *m, const char *sym) {
  for (const Op *seg = m ? m->body.first : NULL; seg; seg = seg->next)
    for (const Op *op = seg->body ? seg->body->first : NULL; op; op = op->next)
      if (op->kind == OP_FUSED && op->sym && !strcmp(op->sym, sym))
        return op;
  return NULL;
}

/* "conv, add, relu" and the result dtypes ("f32"). */
static void kernel_ops(const Op *k, Buf *ops, Buf *prec) {
  if (!k) {
    ir_buf_puts(ops, "?");
    ir_buf_puts(prec, "?");
    return;
  }
  for (const Op *o = k->body->first; o && o->kind != OP_YIELD; o = o->next)
    ir_buf_printf(ops, "%s%s", o == k->body->first ? "" : ", ", ir_op_name(o->kind));
  for (int i = 0; i < k->nresults; i++) {
    const char *dt = ir_dtype_name(k->results[i]->type.dtype);
    if (!strstr(ir_buf_str(prec), dt))
      ir_buf_printf(prec, "%s%s", i ? "," : "", dt);
  }
}

static const RtSection *section(const RtBundle *b, const char *name) {
  return rt_bundle_section(b, name);
}

static void report(const RtBundle *b, const RtPlan *p, const Module *m, bool json, Buf *o) {
  const RtSection *meta = section(b, "meta"), *ir = section(b, "ir");
  static const char *const keys[] = {"kiln-version", "model",     "model-sha",
                                     "flags",        "max-batch", "device"};
  if (json) {
    ir_buf_printf(o, "{\"format_version\":%u,\"provenance\":{", b->version);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      char v[1024];
      rt_meta_get(meta, keys[i], v, sizeof v);
      ir_buf_printf(o, "%s\"%s\":", i ? "," : "", keys[i]);
      tool_json_str(o, v, strlen(v));
    }
    ir_buf_puts(o, "},\"sections\":[");
    for (int i = 0; i < b->nsections; i++)
      ir_buf_printf(o, "%s{\"name\":\"%s\",\"bytes\":%zu,\"xxh3\":\"%016llx\"}", i ? "," : "",
                    b->sections[i].name, b->sections[i].size,
                    (unsigned long long)b->sections[i].hash);
    ir_buf_puts(o, "],\"bindings\":[");
    for (int i = 0; i < p->ninputs + p->noutputs; i++) {
      bool in = i < p->ninputs;
      const RtBinding *bd = in ? &p->inputs[i] : &p->outputs[i - p->ninputs];
      const RtPlanTensor *t = &p->tensors[bd->tensor];
      ir_buf_printf(o, "%s{\"kind\":\"%s\",\"name\":", i ? "," : "", in ? "input" : "output");
      tool_json_str(o, bd->name, strlen(bd->name));
      ir_buf_printf(o, ",\"dtype\":\"%s\",\"shape\":\"", ir_dtype_name((DType)t->dtype));
      shape(o, t);
      ir_buf_puts(o, "\"}");
    }
    ir_buf_printf(o, "],\"memory\":{\"activations\":%llu,\"weights\":%llu,\"max_batch\":%d},"
                  "\"steps\":[", (unsigned long long)p->act_bytes,
                  (unsigned long long)p->weights_bytes, p->max_batch);
  } else {
    ir_buf_printf(o, "engine bundle, format version %u\n\nprovenance:\n", b->version);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      char v[1024];
      rt_meta_get(meta, keys[i], v, sizeof v);
      ir_buf_printf(o, "  %-13s %s\n", keys[i], v);
    }
    ir_buf_puts(o, "\nsections:\n");
    for (int i = 0; i < b->nsections; i++)
      ir_buf_printf(o, "  %-12s %12zu bytes  xxh3 %016llx\n", b->sections[i].name,
                    b->sections[i].size, (unsigned long long)b->sections[i].hash);
    ir_buf_puts(o, "\nbindings:\n");
    for (int i = 0; i < p->ninputs + p->noutputs; i++) {
      bool in = i < p->ninputs;
      const RtBinding *bd = in ? &p->inputs[i] : &p->outputs[i - p->ninputs];
      const RtPlanTensor *t = &p->tensors[bd->tensor];
      ir_buf_printf(o, "  %-6s %-24s %s", in ? "input" : "output", bd->name,
                    ir_dtype_name((DType)t->dtype));
      shape(o, t);
      ir_buf_putc(o, '\n');
    }
    ir_buf_printf(o, "\nmemory (max batch %d):\n  activations %llu bytes\n  weights     %llu "
                  "bytes\n\nsteps:\n", p->max_batch, (unsigned long long)p->act_bytes,
                  (unsigned long long)p->weights_bytes);
  }
  for (int s = 0; s < p->nsteps; s++) {
    const RtStep *st = &p->steps[s];
    Buf ops = {0}, prec = {0};
    if (st->kind == RT_STEP_KERNEL)
      kernel_ops(find_kernel(m, st->name), &ops, &prec);
    else
      ir_buf_puts(&ops, st->name);
    if (json) {
      ir_buf_printf(o, "%s{\"kind\":\"%s\",\"name\":", s ? "," : "",
                    st->kind == RT_STEP_KERNEL ? "kernel" : "host");
      tool_json_str(o, st->name, strlen(st->name));
      ir_buf_puts(o, ",\"ops\":");
      tool_json_str(o, ir_buf_str(&ops), ops.len);
      if (st->kind == RT_STEP_KERNEL) {
        ir_buf_puts(o, ",\"precision\":");
        tool_json_str(o, ir_buf_str(&prec), prec.len);
        ir_buf_printf(o, ",\"global\":[%zu,%zu,%zu],\"batch_dim\":%d", st->global[0],
                      st->work_dim > 1 ? st->global[1] : 1, st->work_dim > 2 ? st->global[2] : 1,
                      st->batch_dim);
      }
      ir_buf_putc(o, '}');
    } else if (st->kind == RT_STEP_KERNEL) {
      /* The grid: work-items per dimension, the batch dimension times N. */
      char grid[96];
      int len = 0;
      for (int d = 0; d < st->work_dim; d++)
        len += snprintf(grid + len, sizeof grid - (size_t)len, "%s%zu%s", d ? "x" : "",
                        st->global[d], d == st->batch_dim ? "*N" : "");
      ir_buf_printf(o, "  %3d kernel %-36s %-5s %-18s %s\n", s, st->name, ir_buf_str(&prec),
                    grid, ir_buf_str(&ops));
    } else {
      ir_buf_printf(o, "  %3d host   %-36s %-5s reference kernel\n", s, st->name, "");
    }
    ir_buf_free(&ops);
    ir_buf_free(&prec);
  }
  if (json) {
    ir_buf_puts(o, "],\"ir\":");
    tool_json_str(o, ir ? (const char *)ir->data : "", ir ? ir->size : 0);
    ir_buf_puts(o, "}\n");
  } else if (ir) {
    ir_buf_puts(o, "\nIR:\n");
    ir_buf_putn(o, (const char *)ir->data, ir->size);
  }
}

int main(int argc, char **argv) {
  tool_name = "kiln-inspect";
  const char *path = NULL;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage, stdout);
      return 0;
    } else if (!strcmp(argv[i], "--version")) {
      printf("kiln-inspect %s\n", kiln_version());
      return 0;
    } else if (!strcmp(argv[i], "--json")) {
      json = true;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return tool_error("unknown option '%s'; see kiln-inspect --help", argv[i]);
    } else if (path) {
      return tool_error("more than one engine");
    } else {
      path = argv[i];
    }
  }
  if (!path)
    return tool_error("no engine; see kiln-inspect --help");
  size_t len = 0;
  char *data = tool_read_file(path, &len);
  if (!data)
    return tool_error("cannot read '%s': %s", path, strerror(errno));
  RtBundle b;
  RtPlan plan = {0};
  char err[1024];
  int status = 1;
  if (!rt_bundle_open(data, len, &b, err, sizeof err) || !rt_bundle_check_engine(&b, err, sizeof err)) {
    tool_error("%s: %s", path, err);
    goto done;
  }
  const RtSection *ps = rt_bundle_section(&b, "plan");
  if (!rt_plan_parse((const char *)ps->data, ps->size, &plan, err, sizeof err)) {
    tool_error("%s: section 'plan': %s", path, err);
    goto done;
  }
  const RtSection *ir = rt_bundle_section(&b, "ir");
  Module *m = NULL;
  if (ir) {
    Diag d;
    ir_diag_init(&d, "ir", (const char *)ir->data, ir->size);
    d.out = fopen("/dev/null", "w"); /* an unparsable IR section only loses the ops column */
    m = fe_parse_text((const char *)ir->data, ir->size, &d);
    if (d.out)
      fclose(d.out);
  }
  Buf o = {0};
  report(&b, &plan, m, json, &o);
  status = tool_write_file("kiln-inspect", NULL, ir_buf_str(&o), o.len) ? 0 : 1;
  ir_buf_free(&o);
  ir_module_free(m);
  rt_plan_free(&plan);
done:
  free(data);
  return status;
}
