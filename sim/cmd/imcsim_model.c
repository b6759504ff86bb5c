/* imcsim_model.c -- the imcsim-model command: generate synthetic DeiT / FAR model files and
 * print what a model file holds. Exit status 0 on success, 2 on bad input, 1 otherwise. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "sim/base/outfile.h"
#include "sim/cmd/cli.h"
#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"


static const char usage[] =
    "usage: imcsim-model gen MODEL OUT [options]   write a synthetic model file\n"
    "       imcsim-model info FILE                 print its structure and parameter counts\n"
    "       imcsim-model graph FILE [--json]       print its graph of generic ops: one line\n"
    "                                              per node (index, op, module path, shape,\n"
    "                                              inputs), or the JSON a model file carries\n"
    "\n"
    "gen MODEL is one of deit-ti, deit-s, deit-b (attention) or far-ti, far-s, far-b (every\n"
    "attention block replaced by FAR's multi-head BiLSTM), with timm's shapes; the weights\n"
    "are seeded random numbers. Options of gen:\n"
    "  --prune F        remove the fraction F of hidden units per FAR head and direction\n"
    "                   (chosen from the seed); default 0\n"
    "  --split          store FAR blocks per head (dense, smaller when pruned) instead of\n"
    "                   the masked single LSTM of the FAR reference code\n"
    "  --seed N         random seed (default 1)\n"
    "  --far-blocks L   comma-separated block indices that are FAR (others attention),\n"
    "                   e.g. 0,1,2 or 'none' or 'all'\n"
    "  --depth N  --dim N  --heads N  --mlp N  --img-size N  --patch N  --in-chans N\n"
    "  --classes N      override the preset's shape\n"
    "  --name NAME      model_name in the file's metadata (default: MODEL)\n"
    "\n"
    "  -h, --help       this text\n"
    "  -V, --version    the version\n";

static const char PROG[] = "imcsim-model";

static int parse_int(const char *opt, const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > 1 << 30)
        return imc_cli_bad(PROG, "%s: '%s' is not a non-negative integer", opt, s);
    *out = (int)v;
    return 0;
}

static int parse_far_blocks(const char *s, uint64_t *mask)
{
    if (!strcmp(s, "all")) {
        *mask = ~0ULL;
        return 0;
    }
    *mask = 0;
    if (!strcmp(s, "none"))
        return 0;
    char *copy = strdup(s), *save = NULL;
    int rc = copy ? 0 : EXIT_FAILURE;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !rc;
         tok = strtok_r(NULL, ",", &save)) {
        int b;
        if (!(rc = parse_int("--far-blocks", tok, &b))) {
            if (b > 63)
                rc = imc_cli_bad(PROG, "--far-blocks: block %d: only blocks 0..63 can be chosen one by one", b);
            else
                *mask |= 1ULL << b;
        }
    }
    free(copy);
    return rc;
}

static int cmd_gen(int argc, char **argv)
{
    enum { O_PRUNE = 256, O_SPLIT, O_SEED, O_FAR, O_DEPTH, O_DIM, O_HEADS, O_MLP, O_IMG, O_PATCH,
           O_CHANS, O_CLASSES, O_NAME };
    static const struct option opts[] = {
        {"prune", required_argument, NULL, O_PRUNE},   {"split", no_argument, NULL, O_SPLIT},
        {"seed", required_argument, NULL, O_SEED},     {"far-blocks", required_argument, NULL, O_FAR},
        {"depth", required_argument, NULL, O_DEPTH},   {"dim", required_argument, NULL, O_DIM},
        {"heads", required_argument, NULL, O_HEADS},   {"mlp", required_argument, NULL, O_MLP},
        {"img-size", required_argument, NULL, O_IMG},  {"patch", required_argument, NULL, O_PATCH},
        {"in-chans", required_argument, NULL, O_CHANS}, {"classes", required_argument, NULL, O_CLASSES},
        {"name", required_argument, NULL, O_NAME},     {NULL, 0, NULL, 0},
    };
    imc_err err;
    imc_err_clear(&err);
    imc_modelgen_spec s;
    /* Positional MODEL and OUT may come before or after the options. */
    const char *pos[2] = {NULL, NULL};
    int npos = 0, c, rc = 0, mlp_set = 0;
    char *end;
    optind = 1;
    opterr = 0;
    imc_modelgen_spec opt = {0};
    int set[16] = {0};
    const char *name = NULL, *far = NULL;
    while (!rc && (c = getopt_long(argc, argv, "-:", opts, NULL)) != -1) {
        switch (c) {
        case 1:
            if (npos == 2)
                rc = imc_cli_bad(PROG, "gen: unexpected argument '%s'", optarg);
            else
                pos[npos++] = optarg;
            break;
        case O_PRUNE:
            opt.prune = strtod(optarg, &end);
            if (end == optarg || *end)
                rc = imc_cli_bad(PROG, "--prune: '%s' is not a number", optarg);
            set[0] = 1;
            break;
        case O_SPLIT: opt.split = 1; break;
        case O_SEED:
            opt.seed = strtoul(optarg, &end, 10);
            if (end == optarg || *end)
                rc = imc_cli_bad(PROG, "--seed: '%s' is not a non-negative integer", optarg);
            set[1] = 1;
            break;
        case O_FAR: far = optarg; break;
        case O_DEPTH: rc = parse_int("--depth", optarg, &opt.depth); break;
        case O_DIM: rc = parse_int("--dim", optarg, &opt.embed_dim); break;
        case O_HEADS: rc = parse_int("--heads", optarg, &opt.num_heads); break;
        case O_MLP: rc = parse_int("--mlp", optarg, &opt.mlp_hidden), mlp_set = 1; break;
        case O_IMG: rc = parse_int("--img-size", optarg, &opt.img_size); break;
        case O_PATCH: rc = parse_int("--patch", optarg, &opt.patch_size); break;
        case O_CHANS: rc = parse_int("--in-chans", optarg, &opt.in_chans); break;
        case O_CLASSES: rc = parse_int("--classes", optarg, &opt.num_classes); break;
        case O_NAME: name = optarg; break;
        case ':': rc = imc_cli_bad(PROG, "option %s needs a value", argv[optind - 1]); break;
        default: rc = imc_cli_bad(PROG, "unknown option '%s' (see imcsim-model --help)", argv[optind - 1]); break;
        }
    }
    if (rc)
        return rc;
    if (npos != 2)
        return imc_cli_bad(PROG, "gen needs MODEL and OUT, e.g. imcsim-model gen far-s far_deit_s.bin");
    if (imc_modelgen_preset(pos[0], &s, &err))
        return imc_cli_report(PROG, &err);
#define TAKE(f) if (opt.f) s.f = opt.f
    TAKE(depth); TAKE(embed_dim); TAKE(num_heads); TAKE(img_size); TAKE(patch_size);
    TAKE(in_chans); TAKE(num_classes); TAKE(split);
#undef TAKE
    s.mlp_hidden = mlp_set ? opt.mlp_hidden : (opt.embed_dim ? 4 * opt.embed_dim : s.mlp_hidden);
    if (set[0])
        s.prune = opt.prune;
    if (set[1])
        s.seed = opt.seed;
    if (name)
        snprintf(s.name, sizeof s.name, "%s", name);
    if (far && (rc = parse_far_blocks(far, &s.far_blocks)))
        return rc;
    if (s.prune > 0 && s.far_blocks == 0)
        return imc_cli_bad(PROG, "--prune applies to FAR blocks, and %s has none", pos[0]);
    if (imc_modelgen_write(&s, pos[1], &err))
        return imc_cli_report(PROG, &err);
    return 0;
}

/* info FILE, or graph FILE [--json]. */
static int cmd_info(int argc, char **argv)
{
    int graph = !strcmp(argv[0], "graph"), json = 0;
    if (graph && argc == 3 && !strcmp(argv[2], "--json"))
        json = 1, argc--;
    if (argc != 2)
        return imc_cli_bad(PROG, "%s needs one FILE, e.g. imcsim-model %s far_deit_s.bin%s", argv[0],
                           argv[0], graph ? " [--json]" : "");
    imc_err err;
    imc_err_clear(&err);
    imc_netfile *nf;
    if (imc_netfile_open(&nf, argv[1], &err))
        return imc_cli_report(PROG, &err);
    imc_network *net;
    int rc = imc_network_load(&net, nf, &err);
    char *text = NULL;
    if (!rc && json && !(text = imc_graph_to_json(&net->graph)))
        rc = imc_err_set(&err, IMC_ENOMEM, "out of memory");
    if (!rc && json)
        puts(text);
    else if (!rc && graph)
        imc_graph_print(&net->graph, stdout);
    else if (!rc)
        imc_network_print(net, stdout);
    free(text);
    if (!rc)
        imc_network_free(net);
    imc_netfile_close(nf);
    return rc ? imc_cli_report(PROG, &err) : 0;
}

static void gsl_quiet(const char *reason, const char *file, int line, int gsl_errno)
{
    (void)reason, (void)file, (void)line, (void)gsl_errno;
}

static int model_main(int argc, char **argv)
{
    gsl_set_error_handler(gsl_quiet);
    if (argc < 2)
        return imc_cli_bad(PROG, "no command (gen, info or graph; see imcsim-model --help)");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
        printf("imcsim-model %s\n", PACKAGE_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "gen"))
        return cmd_gen(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info") || !strcmp(argv[1], "graph"))
        return cmd_info(argc - 1, argv + 1);
    return imc_cli_bad(PROG, "unknown command '%s' (gen, info or graph; see imcsim-model --help)", argv[1]);
}

/* Every exit, stdout checked (imc_cli_finish), and no temporary outlives a SIGINT. */
int main(int argc, char **argv)
{
    imc_outfile_on_signals();
    return imc_cli_finish(PROG, model_main(argc, argv));
}
