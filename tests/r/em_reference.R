# Reference values for the EFA family on EM (saturated FIML) correlations, the pipeline's default
# (factors.missing: fiml): lavaan's H1 estimates with missing = "ml" (lavCor(..., missing = "ml")),
# then psych::KMO, psych::cortest.bartlett and psych::fa (minres, oblimin, 2 factors) on that
# correlation matrix with n = 400 (every respondent of the demo answered something).
# Run from the repository top:  Rscript tests/r/em_reference.R  -> tests/reference/em_demo.json
# Data: data/raw/demo/responses.csv recoded as tests/r/sem_reference.R (ECR-R demo).
suppressPackageStartupMessages({library(lavaan); library(psych); library(GPArotation); library(jsonlite)})
d <- read.csv("data/raw/demo/responses.csv")
x <- d[, paste0("ecr_", 1:36)]
x[x == -1 | x == 99] <- NA
for (j in c(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)) x[[paste0("ecr_", j)]] <- 8 - x[[paste0("ecr_", j)]]
names(x) <- paste0("ecr_r_", 1:36)
h1 <- lavCor(x, missing = "ml", output = "fit")
implied <- lavInspect(h1, "h1")
R <- cov2cor(implied$cov)
n <- nrow(x)
k <- KMO(R)
b <- cortest.bartlett(R, n = n)
f <- fa(R, nfactors = 2, fm = "minres", rotate = "oblimin", n.obs = n)
out <- list(meta = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                        psych = as.character(packageVersion("psych")), script = "tests/r/em_reference.R",
                        data_file = "data/raw/demo/responses.csv",
                        data_md5 = unname(tools::md5sum("data/raw/demo/responses.csv"))),
            n = n, em_mean = unname(implied$mean), em_cov = unname(implied$cov), em_cor = unname(R),
            kmo = unname(k$MSA), kmo_items = unname(k$MSAi), bartlett_chi2 = unname(b$chisq),
            bartlett_df = unname(b$df), fa_loadings = unname(unclass(f$loadings)), fa_phi = unname(f$Phi))
write(toJSON(out, digits = NA, auto_unbox = TRUE, matrix = "rowmajor"), "tests/reference/em_demo.json")
cat("wrote tests/reference/em_demo.json\n")
