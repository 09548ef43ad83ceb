# Side-by-side timing for `make bench`: what a researcher would run in R on the benchmark
# cohort (attachment_pipeline.bench) to get the pipeline's default analyses (issue 15):
#   reliability  psych::alpha (pairwise, n.iter = 1000) and psych::omega (nfactors = 3) per subscale
#   factors      EM (FIML) correlations (lavaan::lavCor, missing = "ml"), KMO, Bartlett,
#                fa.parallel (n.iter = 100, SMC = FALSE), fa (2 factors, minres, oblimin),
#                and the MLR + FIML CFAs of the two-factor and the one-factor model with fitMeasures
#   classify     k-means (4 clusters, 10 starts) and mclust (VVV, 1-6 components, BIC)
# Usage: Rscript bench_timing.R responses.csv
# Prints one JSON line per part as it finishes ({"part": ..., "seconds": ...}), then the total
# ({"part": "total", ...}); wall seconds, reading and recoding included in the total; cpu_total is the
# process's CPU seconds so far.
suppressPackageStartupMessages({library(psych); library(lavaan); library(GPArotation); library(mclust)
  library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
t_all <- Sys.time()
report <- function(part, start) {
  cpu <- proc.time()
  cat(toJSON(list(part = part, seconds = as.numeric(difftime(Sys.time(), start, units = "secs")),
                  cpu_total = unname(cpu["user.self"] + cpu["sys.self"])),
             auto_unbox = TRUE, digits = NA), "\n")
  flush(stdout())
}
d <- read.csv(args[1])
x <- as.matrix(d[, paste0("ecr_", 1:36)])
x[x %in% c(-1, 99)] <- NA
rev <- c(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
x[, rev] <- 8 - x[, rev]
colnames(x) <- paste0("i", 1:36)
x <- x[rowSums(!is.na(x)) > 0, ]
anx <- x[, 1:18]; avo <- x[, 19:36]
t0 <- Sys.time()
for (sub in list(anx, avo)) {
  invisible(psych::alpha(sub, n.iter = 1000))
  invisible(psych::omega(sub, nfactors = 3, fm = "minres", plot = FALSE))
}
report("reliability", t0)
t0 <- Sys.time()
em <- lavaan::lavCor(as.data.frame(x), missing = "ml", output = "cor")
n <- nrow(x)
invisible(psych::KMO(em))
invisible(psych::cortest.bartlett(em, n = n))
pdf(NULL)
invisible(psych::fa.parallel(em, n.obs = n, fa = "fa", n.iter = 100, SMC = FALSE, plot = FALSE))
invisible(psych::fa(em, nfactors = 2, n.obs = n, fm = "minres", rotate = "oblimin"))
report("efa", t0)
t0 <- Sys.time()
two <- paste("anx =~", paste0("i", 1:18, collapse = " + "), "\navo =~", paste0("i", 19:36, collapse = " + "))
one <- paste("general =~", paste0("i", 1:36, collapse = " + "))
for (model in c(two, one)) {
  invisible(lavaan::fitMeasures(lavaan::cfa(model, data = as.data.frame(x), estimator = "MLR", missing = "ml")))
}
report("cfa_mlr_fiml", t0)
t0 <- Sys.time()
scores <- cbind(rowMeans(anx, na.rm = TRUE), rowMeans(avo, na.rm = TRUE))
scores <- scores[complete.cases(scores), ]
set.seed(1)
invisible(kmeans(scale(scores), centers = 4, nstart = 10))
invisible(mclust::Mclust(scores, G = 1:6, modelNames = "VVV", verbose = FALSE))
report("classify", t0)
report("total", t_all)
