# Side-by-side timing for `make bench`: what a researcher would run in R on the
# benchmark cohort (attachment_pipeline.bench). Usage: Rscript bench_timing.R responses.csv
# Prints one JSON line {"seconds": ...} with the wall time of the analyses (reading included).
suppressPackageStartupMessages({library(psych); library(lavaan); library(GPArotation); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
start <- Sys.time()
d <- read.csv(args[1])
x <- as.matrix(d[, paste0("ecr_", 1:36)])
x[x %in% c(-1, 99)] <- NA
rev <- c(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
x[, rev] <- 8 - x[, rev]
colnames(x) <- paste0("i", 1:36)
anx <- x[, 1:18]; avo <- x[, 19:36]
invisible(psych::alpha(anx, n.iter = 1000))
invisible(psych::alpha(avo, n.iter = 1000))
invisible(psych::omega(anx, nfactors = 3, fm = "minres", plot = FALSE))
invisible(psych::omega(avo, nfactors = 3, fm = "minres", plot = FALSE))
xc <- na.omit(x)
invisible(psych::KMO(xc))
pdf(NULL)
invisible(psych::fa.parallel(xc, fa = "fa", n.iter = 100, plot = FALSE))
invisible(psych::fa(xc, nfactors = 2, fm = "minres", rotate = "oblimin"))
model <- paste("anx =~", paste0("i", 1:18, collapse = " + "), "\navo =~", paste0("i", 19:36, collapse = " + "))
invisible(lavaan::fitMeasures(lavaan::cfa(model, data = as.data.frame(xc))))
cat(toJSON(list(seconds = as.numeric(difftime(Sys.time(), start, units = "secs"))), auto_unbox = TRUE), "\n")
