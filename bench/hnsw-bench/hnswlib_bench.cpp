// hnswlib_bench.cpp — hnswlib (Debian libhnswlib-dev, header-only) on the data set written by
// hearth_hnsw: same M, efConstruction and efSearch values, inner product, single thread.
#include <hnswlib/hnswlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

static std::vector<char> load(const std::string &path)
{
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) { fprintf(stderr, "cannot read %s\n", path.c_str()); exit(1); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    std::vector<char> b(n);
    if (fread(b.data(), 1, n, f) != (size_t)n) exit(1);
    fclose(f);
    return b;
}

static double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: hnswlib_bench DIR M EFC\n"); return 2; }
    std::string dir = argv[1];
    int M = atoi(argv[2]), efc = atoi(argv[3]);
    auto hdr = load(dir + "/header.bin");
    const uint32_t *h = (const uint32_t *)hdr.data();
    size_t n = h[0], dim = h[1], nq = h[2];
    auto data = load(dir + "/data.bin"), queries = load(dir + "/queries.bin"), gtb = load(dir + "/gt.bin");
    const float *X = (const float *)data.data(), *Q = (const float *)queries.data();
    const int32_t *gt = (const int32_t *)gtb.data();
    hnswlib::InnerProductSpace space(dim);
    hnswlib::HierarchicalNSW<float> index(&space, n, M, efc, 100);
    double t0 = now();
    for (size_t i = 0; i < n; i++) index.addPoint(X + i * dim, i);
    double tb = now() - t0;
    printf("hnswlib build: %.2f s (%.0f inserts/s), M %d, efConstruction %d\n", tb, n / tb, M, efc);
    static const int efs[] = {10, 16, 24, 32, 48, 64, 96, 128, 200, 300};
    for (int ef : efs) {
        index.setEf(ef);
        size_t hits = 0;
        double best = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            hits = 0;
            t0 = now();
            for (size_t q = 0; q < nq; q++) {
                auto res = index.searchKnn(Q + q * dim, 10);
                while (!res.empty()) {
                    size_t id = res.top().second;
                    res.pop();
                    for (int b = 0; b < 10; b++)
                        if ((int32_t)id == gt[q * 10 + b]) hits++;
                }
            }
            double t = now() - t0;
            if (t < best) best = t;
        }
        printf("hnswlib ef %4d  recall@10 %.4f  %8.0f q/s\n", ef, hits / (10.0 * nq), nq / best);
    }
    return 0;
}
