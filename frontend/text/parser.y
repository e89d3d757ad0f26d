/* parser.y - the grammar of kiln's textual IR (ir/README.md), as a pure bison parser.
 *
 * The parser only builds a syntax tree (the P* nodes below, allocated in the parse state's arena);
 * parse.c resolves names, types and attributes and builds the Module. So a syntax error stops
 * everything before any semantic message, and every semantic check sees the whole file (the
 * resources section follows the module it serves).
 *
 * The grammar is looser than README's in three places, so that parse.c can say what is wrong in
 * words rather than as a syntax error: module bodies and regions hold any statement (input, weight,
 * op, output, yield) and parse.c checks where each may stand; a type's dtype is any identifier;
 * quantization parameters are any `name = number` list. */

%code requires {
#include <stdbool.h>
#include <stddef.h>

#include "ir/arena.h"
#include "ir/buf.h"
#include "ir/diag.h"
#include "ir/ir.h"

/* The text of a token: a slice of the source, or an arena copy when a string had escapes. Not
 * NUL-terminated (decoded strings may hold NUL bytes). */
typedef struct PStr {
  const char *s;
  size_t len;
  bool quoted; /* written as a string: a quoted name of digits is a name, not a number */
} PStr;

/* An arena vector of node pointers, grown by doubling. */
typedef struct PVec {
  void **items;
  int n, cap;
} PVec;

/* %name, $name or @name. name is decoded and NUL-terminated (cut at an escaped NUL byte). */
typedef struct PName {
  char sigil;
  const char *name;  /* the key of the parser's name tables */
  const char *ident; /* the value's name in the IR: NULL for a bare number (anonymous) */
  Loc loc;           /* of the sigil */
} PName;

typedef enum PValueKind { PV_INT, PV_FLOAT, PV_STRING, PV_BOOL, PV_LIST, PV_TENSOR } PValueKind;

/* A literal, an attribute value, a tensor element or a dimension. */
typedef struct PValue {
  PValueKind kind;
  Loc loc;
  const char *text;   /* INT, FLOAT, BOOL: the literal as written, NUL-terminated */
  PStr str;           /* STRING: the decoded bytes */
  PVec elems;         /* LIST: PValue* */
  struct PTensor *tensor; /* TENSOR */
} PValue;

/* `name = number` inside a quantized type's <...>. */
typedef struct PQuantParam {
  const char *name;
  Loc loc;
  PValue *value;
} PQuantParam;

typedef struct PType {
  Loc loc;           /* of the dtype or '?' */
  const char *dtype; /* NULL for '?' */
  bool quantized;
  Loc quant_loc;     /* of '<' */
  PVec quant;        /* PQuantParam* */
  PVec dims;         /* PValue*: PV_INT, or PV_STRING "N" for the batch dimension */
} PType;

typedef struct PTensor {
  Loc loc;           /* of 'dense' or 'dense_resource' */
  bool resource;
  PVec elems;        /* dense: PValue* (INT, FLOAT, BOOL) */
  const char *key;   /* dense_resource */
  Loc key_loc;
  PType *type;       /* tensor attributes; NULL in a weight (which has its own type) */
} PTensor;

typedef struct PAttr {
  const char *name;
  Loc loc;
  PValue *value;
} PAttr;

typedef struct PRegion {
  Loc open, close;   /* the braces */
  PVec stmts;        /* PStmt* */
} PRegion;

typedef enum PStmtKind { PS_INPUT, PS_WEIGHT, PS_OP, PS_OUTPUT, PS_YIELD } PStmtKind;

typedef struct PStmt {
  PStmtKind kind;
  Loc loc;           /* the keyword, or the op name */
  const char *op;    /* PS_OP: the op name as written */
  PName *sym;        /* PS_OP: @symbol or NULL */
  PVec results;      /* PS_OP: PName*; PS_INPUT, PS_WEIGHT: the one value defined */
  PVec operands;     /* PName* */
  PVec attrs;        /* PAttr* */
  PVec types;        /* PType*; one for input and weight */
  Loc types_loc;     /* of the first type */
  PTensor *tensor;   /* PS_WEIGHT */
  PRegion *region;   /* PS_OP: NULL when none was written */
} PStmt;

typedef struct PResource {
  const char *key;
  Loc loc;
  PStr data;         /* the string's decoded bytes: "0x" then hex */
  Loc data_loc;
} PResource;

typedef struct PFile {
  const char *name;  /* module @name, or NULL */
  Loc loc;           /* of 'module' */
  Loc close;         /* of the module's closing brace */
  PVec stmts;        /* PStmt* */
  PVec resources;    /* PResource* */
} PFile;

/* State shared by the scanner (lexer.l), the parser and the builder (parse.c). */
typedef struct ParseState {
  const char *src;
  size_t len;
  Diag *d;
  Arena *arena;      /* the syntax tree and decoded strings; freed once the module is built */
  /* Scanner position of the next byte: 1-based line and column, 0-based offset into src. */
  int line, col;
  size_t offset;
  /* The string being scanned: the token it makes, where it starts, its decoded text once an
   * escape was seen (before that the text is the raw slice of src). */
  int str_token;
  Loc str_loc;
  size_t str_start;
  bool str_escaped;
  Buf str_buf;
  /* The last token returned (offset and length in src), for syntax error messages. */
  size_t tok_start, tok_len;
  PFile *file;       /* the result of a successful parse */
} ParseState;

/* Arena helpers shared with the scanner and the builder. */
void fe_vec_push(ParseState *ps, PVec *v, void *item);
char *fe_strndup(ParseState *ps, const char *s, size_t n);

/* The scanner (lexer.l): fe_lex_open scans ps->src; fe_lex_close frees the scanner. */
void *fe_lex_open(ParseState *ps);
void fe_lex_close(void *scanner);
}

%code provides {
int kir_lex(KIR_STYPE *lval, KIR_LTYPE *lloc, void *scanner);
int kir_parse(void *scanner, ParseState *ps);
}

%code {
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void kir_error(KIR_LTYPE *loc, void *scanner, ParseState *ps, const char *msg);

/* The start of a bison location as a Loc. */
#define LOC(l) ((Loc){(l).first_line, (l).first_column})

static void *node(ParseState *ps, size_t size) { return ir_arena_alloc(ps->arena, size); }
static PName *new_name(ParseState *ps, char sigil, PStr s, KIR_LTYPE l);
static PValue *new_value(ParseState *ps, PValueKind kind, PStr s, KIR_LTYPE l);
static PVec vec1(ParseState *ps, void *item);
}

%define api.pure full
%define api.prefix {kir_}
%define api.token.prefix {TOK_}
%define parse.error custom
%define parse.lac full
%locations
%param {void *scanner}
%parse-param {ParseState *ps}

%union {
  PStr str;
  PName *name;
  PValue *value;
  PType *type;
  PTensor *tensor;
  PAttr *attr;
  PRegion *region;
  PStmt *stmt;
  PFile *file;
  PVec vec;
}

/* Every token carries its text. The aliases are what syntax error messages call them. */
%token <str> IDENT "identifier"
%token <str> INTEGER "integer"
%token <str> FLOAT "float"
%token <str> STRING "string"
%token <str> VALUE_ID "value name"
%token <str> WEIGHT_ID "weight name"
%token <str> SYMBOL "symbol"
%token <str> KW_MODULE "'module'"
%token <str> KW_INPUT "'input'"
%token <str> KW_WEIGHT "'weight'"
%token <str> KW_OUTPUT "'output'"
%token <str> KW_YIELD "'yield'"
%token <str> KW_RESOURCES "'resources'"
%token <str> KW_DENSE "'dense'"
%token <str> KW_DENSE_RESOURCE "'dense_resource'"
%token <str> KW_TRUE "'true'"
%token <str> KW_FALSE "'false'"
%token <str> KW_N "'N'"

%type <file> module
%type <name> sym_opt operand
%type <vec> stmts results operands operands_opt attrs_opt attrs literals elems_opt elems types
%type <vec> quant_opt quant_params dims_opt dims resources_opt resource_entries
%type <stmt> stmt
%type <region> region_opt
%type <attr> attr
%type <str> key keyword
%type <value> attr_value literal elem number dim
%type <tensor> tensor
%type <type> type

%%

/* file ::= module resources? */
file
  : module resources_opt { $1->resources = $2; ps->file = $1; }
  ;

/* module ::= 'module' symbol? '{' statement* '}' */
module
  : KW_MODULE sym_opt '{' stmts '}' {
      $$ = node(ps, sizeof(PFile));
      $$->name = $2 ? $2->name : NULL;
      $$->loc = LOC(@1);
      $$->stmts = $4;
      $$->close = LOC(@5);
    }
  ;

sym_opt
  : %empty { $$ = NULL; }
  | SYMBOL { $$ = new_name(ps, '@', $1, @1); }
  ;

stmts
  : %empty { $$ = (PVec){0}; }
  | stmts stmt { $$ = $1; fe_vec_push(ps, &$$, $2); }
  ;

/* statement ::= input | weight | op | output | yield  (parse.c checks where each may stand) */
stmt
  /* input ::= 'input' value-id ':' type */
  : KW_INPUT VALUE_ID ':' type {
      $$ = node(ps, sizeof(PStmt));
      $$->kind = PS_INPUT;
      $$->loc = LOC(@1);
      $$->results = vec1(ps, new_name(ps, '%', $2, @2));
      $$->types = vec1(ps, $4);
      $$->types_loc = LOC(@4);
    }
  /* weight ::= 'weight' weight-id ':' type '=' tensor */
  | KW_WEIGHT WEIGHT_ID ':' type '=' tensor {
      $$ = node(ps, sizeof(PStmt));
      $$->kind = PS_WEIGHT;
      $$->loc = LOC(@1);
      $$->results = vec1(ps, new_name(ps, '$', $2, @2));
      $$->types = vec1(ps, $4);
      $$->types_loc = LOC(@4);
      $$->tensor = $6;
    }
  /* output ::= 'output' operand-list attr-dict? */
  | KW_OUTPUT operands attrs_opt {
      $$ = node(ps, sizeof(PStmt));
      $$->kind = PS_OUTPUT;
      $$->loc = LOC(@1);
      $$->operands = $2;
      $$->attrs = $3;
    }
  /* yield ::= 'yield' operand-list */
  | KW_YIELD operands {
      $$ = node(ps, sizeof(PStmt));
      $$->kind = PS_YIELD;
      $$->loc = LOC(@1);
      $$->operands = $2;
    }
  /* op ::= result-list '=' op-name symbol? '(' operand-list? ')' attr-dict? ':' type-list
   *        region? */
  | results '=' IDENT sym_opt '(' operands_opt ')' attrs_opt ':' types region_opt {
      $$ = node(ps, sizeof(PStmt));
      $$->kind = PS_OP;
      $$->loc = LOC(@3);
      $$->op = fe_strndup(ps, $3.s, $3.len);
      $$->sym = $4;
      $$->results = $1;
      $$->operands = $6;
      $$->attrs = $8;
      $$->types = $10;
      $$->types_loc = LOC(@10);
      $$->region = $11;
    }
  ;

/* region ::= '{' statement* '}' */
region_opt
  : %empty { $$ = NULL; }
  | '{' stmts '}' {
      $$ = node(ps, sizeof(PRegion));
      $$->open = LOC(@1);
      $$->stmts = $2;
      $$->close = LOC(@3);
    }
  ;

/* result-list ::= value-id (',' value-id)* */
results
  : VALUE_ID { $$ = vec1(ps, new_name(ps, '%', $1, @1)); }
  | results ',' VALUE_ID { $$ = $1; fe_vec_push(ps, &$$, new_name(ps, '%', $3, @3)); }
  ;

/* operand-list ::= operand (',' operand)* */
operands_opt
  : %empty { $$ = (PVec){0}; }
  | operands
  ;

operands
  : operand { $$ = vec1(ps, $1); }
  | operands ',' operand { $$ = $1; fe_vec_push(ps, &$$, $3); }
  ;

/* operand ::= value-id | weight-id */
operand
  : VALUE_ID { $$ = new_name(ps, '%', $1, @1); }
  | WEIGHT_ID { $$ = new_name(ps, '$', $1, @1); }
  ;

/* attr-dict ::= '{' (attr (',' attr)*)? '}' */
attrs_opt
  : %empty { $$ = (PVec){0}; }
  | '{' '}' { $$ = (PVec){0}; }
  | '{' attrs '}' { $$ = $2; }
  ;

attrs
  : attr { $$ = vec1(ps, $1); }
  | attrs ',' attr { $$ = $1; fe_vec_push(ps, &$$, $3); }
  ;

/* attr ::= name '=' attr-value */
attr
  : key '=' attr_value {
      $$ = node(ps, sizeof(PAttr));
      $$->name = fe_strndup(ps, $1.s, $1.len);
      $$->loc = LOC(@1);
      $$->value = $3;
    }
  ;

/* An attribute name or a resource key: a bare-id (which may look like a number or a keyword) or
 * a string. */
key
  : IDENT
  | INTEGER
  | FLOAT
  | STRING
  | keyword
  ;

keyword
  : KW_MODULE | KW_INPUT | KW_WEIGHT | KW_OUTPUT | KW_YIELD | KW_RESOURCES | KW_DENSE
  | KW_DENSE_RESOURCE | KW_TRUE | KW_FALSE | KW_N
  ;

/* attr-value ::= literal | '[' (literal (',' literal)*)? ']' | tensor ':' type */
attr_value
  : literal
  | '[' ']' { $$ = new_value(ps, PV_LIST, (PStr){0}, @1); }
  | '[' literals ']' {
      $$ = new_value(ps, PV_LIST, (PStr){0}, @1);
      $$->elems = $2;
    }
  | tensor ':' type {
      $$ = new_value(ps, PV_TENSOR, (PStr){0}, @1);
      $1->type = $3;
      $$->tensor = $1;
    }
  ;

literals
  : literal { $$ = vec1(ps, $1); }
  | literals ',' literal { $$ = $1; fe_vec_push(ps, &$$, $3); }
  ;

/* literal ::= integer | float | string | 'true' | 'false' */
literal
  : INTEGER { $$ = new_value(ps, PV_INT, $1, @1); }
  | FLOAT { $$ = new_value(ps, PV_FLOAT, $1, @1); }
  | STRING { $$ = new_value(ps, PV_STRING, $1, @1); }
  | KW_TRUE { $$ = new_value(ps, PV_BOOL, $1, @1); }
  | KW_FALSE { $$ = new_value(ps, PV_BOOL, $1, @1); }
  ;

/* tensor ::= 'dense' '<' '[' (element (',' element)*)? ']' '>' | 'dense_resource' '<' key '>' */
tensor
  : KW_DENSE '<' '[' elems_opt ']' '>' {
      $$ = node(ps, sizeof(PTensor));
      $$->loc = LOC(@1);
      $$->elems = $4;
    }
  | KW_DENSE_RESOURCE '<' key '>' {
      $$ = node(ps, sizeof(PTensor));
      $$->loc = LOC(@1);
      $$->resource = true;
      $$->key = fe_strndup(ps, $3.s, $3.len);
      $$->key_loc = LOC(@3);
    }
  ;

elems_opt
  : %empty { $$ = (PVec){0}; }
  | elems
  ;

elems
  : elem { $$ = vec1(ps, $1); }
  | elems ',' elem { $$ = $1; fe_vec_push(ps, &$$, $3); }
  ;

/* element ::= integer | float | 'true' | 'false' */
elem
  : number
  | KW_TRUE { $$ = new_value(ps, PV_BOOL, $1, @1); }
  | KW_FALSE { $$ = new_value(ps, PV_BOOL, $1, @1); }
  ;

number
  : INTEGER { $$ = new_value(ps, PV_INT, $1, @1); }
  | FLOAT { $$ = new_value(ps, PV_FLOAT, $1, @1); }
  ;

/* type-list ::= type (',' type)* */
types
  : type { $$ = vec1(ps, $1); }
  | types ',' type { $$ = $1; fe_vec_push(ps, &$$, $3); }
  ;

/* type ::= '?' | dtype quant? ('[' (dim (',' dim)*)? ']')? */
type
  : '?' {
      $$ = node(ps, sizeof(PType));
      $$->loc = LOC(@1);
    }
  | IDENT quant_opt dims_opt {
      $$ = node(ps, sizeof(PType));
      $$->loc = LOC(@1);
      $$->dtype = fe_strndup(ps, $1.s, $1.len);
      $$->quantized = $2.n > 0;
      $$->quant_loc = LOC(@2);
      $$->quant = $2;
      $$->dims = $3;
    }
  ;

/* quant ::= '<' name '=' number (',' name '=' number)* '>'  (parse.c wants s=float, z=integer) */
quant_opt
  : %empty { $$ = (PVec){0}; }
  | '<' quant_params '>' { $$ = $2; }
  ;

quant_params
  : IDENT '=' number {
      PQuantParam *q = node(ps, sizeof *q);
      q->name = fe_strndup(ps, $1.s, $1.len);
      q->loc = LOC(@1);
      q->value = $3;
      $$ = vec1(ps, q);
    }
  | quant_params ',' IDENT '=' number {
      PQuantParam *q = node(ps, sizeof *q);
      q->name = fe_strndup(ps, $3.s, $3.len);
      q->loc = LOC(@3);
      q->value = $5;
      $$ = $1;
      fe_vec_push(ps, &$$, q);
    }
  ;

dims_opt
  : %empty { $$ = (PVec){0}; }
  | '[' ']' { $$ = (PVec){0}; }
  | '[' dims ']' { $$ = $2; }
  ;

dims
  : dim { $$ = vec1(ps, $1); }
  | dims ',' dim { $$ = $1; fe_vec_push(ps, &$$, $3); }
  ;

/* dim ::= 'N' | integer */
dim
  : INTEGER { $$ = new_value(ps, PV_INT, $1, @1); }
  | KW_N { $$ = new_value(ps, PV_STRING, $1, @1); }
  ;

/* resources ::= 'resources' '{' (key '=' string)* '}' */
resources_opt
  : %empty { $$ = (PVec){0}; }
  | KW_RESOURCES '{' resource_entries '}' { $$ = $3; }
  ;

resource_entries
  : %empty { $$ = (PVec){0}; }
  | resource_entries key '=' STRING {
      PResource *r = node(ps, sizeof *r);
      r->key = fe_strndup(ps, $2.s, $2.len);
      r->loc = LOC(@2);
      r->data = $4;
      r->data_loc = LOC(@4);
      $$ = $1;
      fe_vec_push(ps, &$$, r);
    }
  ;

%%

void fe_vec_push(ParseState *ps, PVec *v, void *item) {
  if (v->n == v->cap) {
    int cap = v->cap ? v->cap * 2 : 4;
    v->items = ir_arena_grow(ps->arena, v->items, sizeof(void *) * (size_t)v->cap,
                             sizeof(void *) * (size_t)cap);
    v->cap = cap;
  }
  v->items[v->n++] = item;
}

char *fe_strndup(ParseState *ps, const char *s, size_t n) {
  return ir_arena_strndup(ps->arena, s, n);
}

static PVec vec1(ParseState *ps, void *item) {
  PVec v = {0};
  fe_vec_push(ps, &v, item);
  return v;
}

static PName *new_name(ParseState *ps, char sigil, PStr s, KIR_LTYPE l) {
  PName *n = node(ps, sizeof *n);
  n->sigil = sigil;
  n->ident = fe_strndup(ps, s.s, s.len);
  n->name = n->ident;
  n->loc = LOC(l);
  /* %3 is anonymous, %"3" a value named 3: their table keys must differ. Symbols (@3) are
   * labels, never anonymous. */
  if (sigil != '@' && s.len && strspn(n->ident, "0123456789") == s.len) {
    if (s.quoted) {
      char *key = ir_arena_alloc(ps->arena, s.len + 2); /* zeroed: NUL-terminated */
      key[0] = '"';
      memcpy(key + 1, s.s, s.len);
      n->name = key;
    } else {
      n->ident = NULL;
    }
  }
  return n;
}

/* A literal node: strings keep their decoded bytes, everything else its NUL-terminated text. */
static PValue *new_value(ParseState *ps, PValueKind kind, PStr s, KIR_LTYPE l) {
  PValue *v = node(ps, sizeof *v);
  v->kind = kind;
  v->loc = LOC(l);
  if (kind == PV_STRING)
    v->str = s;
  else if (s.s)
    v->text = fe_strndup(ps, s.s, s.len);
  return v;
}

/* ---- syntax errors ---------------------------------------------------------------------- */

/* Token classes named by one word in messages: when every member is expected, the class's name
 * replaces them. Checked in order; a token is named at most once. Members are symbol names as
 * yysymbol_name() gives them. */
static const struct {
  const char *name;
  const char *members[16];
} token_classes[] = {
    {"name",
     {"identifier", "integer", "float", "string", "'module'", "'input'", "'weight'", "'output'",
      "'yield'", "'resources'", "'dense'", "'dense_resource'", "'true'", "'false'", "'N'"}},
    {"attribute value",
     {"integer", "float", "string", "'true'", "'false'", "'['", "'dense'", "'dense_resource'"}},
    {"literal", {"integer", "float", "string", "'true'", "'false'"}},
    {"number", {"integer", "float"}},
    {"statement", {"'input'", "'weight'", "'output'", "'yield'", "value name"}},
    {"operand", {"value name", "weight name"}},
    {"type", {"'?'", "identifier"}},
};

/* The index in expected[0..n) of the symbol called name, or -1. */
static int find_symbol(const yysymbol_kind_t *expected, int n, const bool *taken,
                       const char *name) {
  for (int i = 0; i < n; i++)
    if (taken[i] && strcmp(yysymbol_name(expected[i]), name) == 0)
      return i;
  return -1;
}

/* Appends the last token's text to b, quoted and shortened: 'foo', 'a very long str...'. */
static void put_token_text(Buf *b, const ParseState *ps) {
  enum { MAX_SHOWN = 40 };
  size_t n = ps->tok_len;
  ir_buf_putc(b, '\'');
  for (size_t i = 0; i < n && i < MAX_SHOWN; i++) {
    unsigned char c = (unsigned char)ps->src[ps->tok_start + i];
    if (c < 0x20 || c >= 0x7f)
      ir_buf_printf(b, "\\x%02X", c);
    else
      ir_buf_putc(b, (char)c);
  }
  if (n > MAX_SHOWN)
    ir_buf_puts(b, "...");
  ir_buf_putc(b, '\'');
}

/* "syntax error: expected X, Y or Z, got W" from the LAC-exact set of expected tokens; a token
 * with text shows it (got identifier 'foo'). At the end of the input: "unexpected end of file". */
static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, ParseState *ps) {
  (void)scanner;
  KIR_LTYPE l = *yypcontext_location(ctx);
  Loc loc = LOC(l);
  yysymbol_kind_t got = yypcontext_token(ctx);
  if (got == YYSYMBOL_YYEOF) {
    ir_error(ps->d, loc, "unexpected end of file");
    return 0;
  }
  yysymbol_kind_t expected[YYNTOKENS];
  int n = yypcontext_expected_tokens(ctx, expected, YYNTOKENS);
  bool taken[YYNTOKENS]; /* per entry of expected: not yet named */
  for (int i = 0; i < n; i++)
    taken[i] = true;

  const char *names[YYNTOKENS];
  int nnames = 0;
  for (size_t c = 0; c < sizeof token_classes / sizeof token_classes[0]; c++) {
    bool all = true;
    for (const char *const *m = token_classes[c].members; *m; m++)
      all = all && find_symbol(expected, n, taken, *m) >= 0;
    if (!all)
      continue;
    for (const char *const *m = token_classes[c].members; *m; m++)
      taken[find_symbol(expected, n, taken, *m)] = false;
    names[nnames++] = token_classes[c].name;
  }
  for (int i = 0; i < n; i++)
    if (taken[i])
      names[nnames++] = yysymbol_name(expected[i]);

  Buf b = {0};
  ir_buf_puts(&b, "syntax error: ");
  if (nnames > 0) {
    ir_buf_puts(&b, "expected ");
    for (int i = 0; i < nnames; i++) {
      if (i)
        ir_buf_puts(&b, i == nnames - 1 ? " or " : ", ");
      ir_buf_puts(&b, names[i]);
    }
    ir_buf_puts(&b, ", got ");
  } else {
    ir_buf_puts(&b, "unexpected ");
  }
  const char *got_name = yysymbol_name(got);
  ir_buf_puts(&b, got_name);
  if (got_name[0] != '\'') { /* a token with text of its own */
    ir_buf_putc(&b, ' ');
    put_token_text(&b, ps);
  }
  ir_error(ps->d, loc, "%s", ir_buf_str(&b));
  ir_buf_free(&b);
  return 0;
}

/* Reached only when the parser stack is exhausted ("memory exhausted"). */
static void kir_error(KIR_LTYPE *loc, void *scanner, ParseState *ps, const char *msg) {
  (void)scanner;
  if (strcmp(msg, "memory exhausted") == 0)
    ir_error(ps->d, LOC(*loc), "nesting is too deep");
  else
    ir_error(ps->d, LOC(*loc), "%s", msg);
}
