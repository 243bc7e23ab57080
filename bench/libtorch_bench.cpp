// libtorch_bench.cpp - the work of bench/torch_bench.py in libtorch C++ (no Python
// interpreter between the steps): 784-256-128-10 (torch::nn::Linear x3, ReLU),
// cross-entropy, Xavier-uniform weights and zero biases, torch::optim::Adam lr 1e-3,
// Fashion-MNIST preloaded as one float tensor (read with nn_data.h).
//
//   train    per epoch: torch::randperm, then per batch index_select, zero_grad, forward,
//            loss, backward, step (running loss via .item<float>()); 1 warm-up epoch + up
//            to N timed epochs; best and median samples/s; batch 32, 128 and 256.
//   infer    softmax(model(x)) over the 10,000 test images in batches of 1000 under
//            NoGradGuard; best and median samples/s.
//   latency  softmax(model(x)) of one sample; p10 and median microseconds.
//
// Output: RESULT <name> <threads> <batch> <best> <median> <unit>, as bench_train and
// torch_bench.py. Run with the OpenMP OpenBLAS first in LD_LIBRARY_PATH, as the Python
// twin (make bench does).
//
// usage: libtorch_bench [--threads T] [--epochs N] [--quick] [--data DIR]
//                       [--max-seconds S]
#include <torch/torch.h>
#define NN_IMPLEMENTATION
#define NN_DATA_IMPLEMENTATION
#include "nn.h"
#include "nn_data.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static double now_s()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct MlpImpl : torch::nn::Module {
    torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
    MlpImpl()
    {
        fc1 = register_module("fc1", torch::nn::Linear(784, 256));
        fc2 = register_module("fc2", torch::nn::Linear(256, 128));
        fc3 = register_module("fc3", torch::nn::Linear(128, 10));
        for (auto *l : {&fc1, &fc2, &fc3}) {
            torch::nn::init::xavier_uniform_((*l)->weight);
            torch::nn::init::zeros_((*l)->bias);
        }
    }
    torch::Tensor forward(torch::Tensor x)
    {
        x = torch::relu(fc1->forward(x));
        x = torch::relu(fc2->forward(x));
        return fc3->forward(x);
    }
};
TORCH_MODULE(Mlp);

static bool load(const std::string &dir, const char *prefix, torch::Tensor &x, torch::Tensor &y)
{
    std::string img = dir + "/" + prefix + "-images-idx3-ubyte.gz";
    std::string lab = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
    nn_data d;
    if (nn_data_load_idx(img.c_str(), lab.c_str(), NULL, &d) != NN_OK) return false;
    x = torch::from_blob(d.x, {d.n, d.dim}, torch::kFloat32).clone();
    y = torch::from_blob(d.labels, {d.n}, torch::kInt32).to(torch::kInt64);
    nn_data_free(&d);
    return true;
}

static double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    size_t k = v.size();
    return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

int main(int argc, char **argv)
{
    int T = 1, epochs = 3, quick = 0;
    double max_seconds = 40;
    std::string data = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--quick") quick = 1;
        else if (a == "--threads" && i + 1 < argc) T = std::atoi(argv[++i]);
        else if (a == "--epochs" && i + 1 < argc) epochs = std::atoi(argv[++i]);
        else if (a == "--data" && i + 1 < argc) data = argv[++i];
        else if (a == "--max-seconds" && i + 1 < argc) max_seconds = std::atof(argv[++i]);
        else { std::fprintf(stderr, "usage: libtorch_bench [--threads T] [--epochs N] [--quick] [--data DIR] [--max-seconds S]\n"); return 2; }
    }
    if (quick && epochs == 3) epochs = 1;
    torch::set_num_threads(T);
    torch::manual_seed(42);
    torch::Tensor X, Y, Xt, Yt;
    bool random_data = !load(data, "train", X, Y) || !load(data, "t10k", Xt, Yt);
    if (random_data) {
        std::fprintf(stderr, "libtorch_bench: Fashion-MNIST not found in %s; using RANDOM data\n", data.c_str());
        X = torch::rand({60000, 784}); Y = torch::randint(0, 10, {60000}, torch::kInt64);
        Xt = torch::rand({10000, 784}); Yt = torch::randint(0, 10, {10000}, torch::kInt64);
    }
    if (quick) { X = X.slice(0, 0, 20000).contiguous(); Y = Y.slice(0, 0, 20000).contiguous(); }
    const int infer_reps = quick ? 10 : 40, lat_calls = quick ? 10000 : 20000;
    std::printf("libtorch_bench torch=%d.%d.%d threads=%d data=%s train=%lld test=%lld epochs=1+%d\n",
                TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH, torch::get_num_threads(),
                random_data ? "RANDOM" : "fashion-mnist", (long long)X.size(0), (long long)Xt.size(0), epochs);
    std::fflush(stdout);

    Mlp model128{nullptr};
    for (int B : {32, 128, 256}) {
        torch::manual_seed(42);
        Mlp model;
        torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
        model->train();
        const int64_t n = X.size(0);
        std::vector<double> sps;
        double t_cfg = now_s(), loss_sum = 0;
        for (int e = 0; e <= epochs; e++) { // epoch 0: warm-up
            double t0 = now_s();
            torch::Tensor perm = torch::randperm(n, torch::kInt64);
            loss_sum = 0;
            for (int64_t i = 0; i < n; i += B) {
                torch::Tensor idx = perm.slice(0, i, std::min(i + B, n));
                torch::Tensor xb = X.index_select(0, idx), yb = Y.index_select(0, idx);
                opt.zero_grad();
                torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(xb), yb);
                loss.backward();
                opt.step();
                loss_sum += loss.item<float>() * idx.size(0);
            }
            if (e > 0) {
                sps.push_back(n / (now_s() - t0));
                if (now_s() - t_cfg > max_seconds) break;
            }
        }
        if ((int)sps.size() < epochs)
            std::printf("NOTE train batch %d: %d of %d timed epochs (time cap %g s reached)\n", B,
                        (int)sps.size(), epochs, max_seconds);
        model->eval();
        float acc;
        {
            torch::NoGradGuard ng;
            acc = model->forward(Xt).argmax(1).eq(Yt).to(torch::kFloat32).mean().item<float>();
        }
        if (!(loss_sum == loss_sum) || (!random_data && acc < 0.75f)) {
            std::fprintf(stderr, "libtorch_bench: batch %d trained WRONG (test accuracy %.3f)\n", B, acc);
            return 1;
        }
        std::printf("RESULT train %d %d %.0f %.0f samples/s\n", T, B, *std::max_element(sps.begin(), sps.end()),
                    median(sps));
        std::fflush(stdout);
        if (B == 128) model128 = model;
    }

    torch::NoGradGuard ng;
    Mlp model = model128;
    model->eval();
    const int64_t n = Xt.size(0);
    std::vector<double> ts;
    for (int r = -1; r < infer_reps; r++) {
        double t0 = now_s();
        for (int64_t i = 0; i < n; i += 1000) torch::softmax(model->forward(Xt.slice(0, i, i + 1000)), 1);
        if (r >= 0) ts.push_back(now_s() - t0);
    }
    std::sort(ts.begin(), ts.end());
    std::printf("RESULT infer %d 1000 %.0f %.0f samples/s\n", T, n / ts[0], n / median(ts));
    std::vector<torch::Tensor> singles;
    for (int i = 0; i < 1000; i++) singles.push_back(Xt.slice(0, i, i + 1));
    for (int i = 0; i < 200; i++) torch::softmax(model->forward(singles[i % 1000]), 1);
    std::vector<double> lat;
    for (int i = 0; i < lat_calls; i++) {
        double t0 = now_s();
        torch::softmax(model->forward(singles[i % 1000]), 1);
        lat.push_back((now_s() - t0) * 1e6);
    }
    std::sort(lat.begin(), lat.end());
    std::printf("RESULT latency %d 1 %.2f %.2f us\n", T, lat[lat_calls / 10], lat[lat_calls / 2]);
    return 0;
}
