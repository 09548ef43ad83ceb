# Reference values for the dyadic statistics (src/attachment_pipeline/dyads.py, inference.py and the
# dyadic invariance in invariance.py), computed with lavaan 0.6-14, psych, survey, sandwich and glm.
#
# Run from the repository top:
#   Rscript tests/r/dyads_reference.R
# Reads tests/data/dyads_scores.csv and tests/data/dyads_items.csv (made by
# tests/data/dyads_make_data.py) and writes tests/reference/dyads.json with, for each data file, its md5:
#   isat          the I-SAT model (Olsen & Kenny, 2006) of (anxiety, avoidance) and of the min/max index:
#                 chi-square against the saturated model (the distinguishability test), estimates and
#                 ML and MLR standard errors of every moment; the cross-partner paths and correlation as
#                 defined parameters (:=), whose SEs are lavaan's delta method
#   saturated     the same paths in the saturated model (distinguishable dyads)
#   apim          APIM of avoidance on anxiety, distinguishable (roles A, B) and indistinguishable
#                 (equal actor, partner, intercepts, means, variances), ML and MLR: est, se, std.all,
#                 k = partner / actor (:=) with its delta-method se
#   icc           psych::ICC on the couples' min/max index (ICC1: value, F, df, bounds)
#   cluster       survey: design-based correlation of anxiety and the min/max index over respondents
#                 clustered in couples (svyvar + svycontrast), svygofchisq of the styles against
#                 reference proportions; sandwich::vcovCL (HC1) of the gender difference in anxiety
#   loglinear     Poisson glm of the couples' style pairs: unordered pairs with symmetric margins,
#                 homogamy (diagonal) terms and a preoccupied-dismissing term; ordered pairs with
#                 role margins
#   invariance    dySEM-style dyadic CFA (fixed-factor scale setting) of dyads_items.csv: configural,
#                 loading and intercept models, ML listwise and ML with FIML: fitMeasures
#
# Needs: lavaan, psych, survey, sandwich, jsonlite.
suppressPackageStartupMessages({
  library(lavaan); library(psych); library(survey); library(sandwich); library(jsonlite)
})
options(warn = 1)
num <- function(v) unname(as.numeric(v))

long <- read.csv("tests/data/dyads_scores.csv", stringsAsFactors = FALSE, na.strings = "")
items <- read.csv("tests/data/dyads_items.csv", stringsAsFactors = FALSE)
cp <- long[!is.na(long$couple), ]
A <- cp[cp$role == "A", ]; B <- cp[cp$role == "B", ]
A <- A[order(A$couple), ]; B <- B[order(B$couple), ]
stopifnot(all(A$couple == B$couple))
wide <- data.frame(a1 = A$anxiety, v1 = A$avoidance, m1 = A$minmax_index,
                   a2 = B$anxiety, v2 = B$avoidance, m2 = B$minmax_index)

est_table <- function(fit) {
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, label = pe$label, est = num(pe$est), se = num(pe$se),
       std_all = num(ss$est.std), std_se = num(ss$se))
}

# ---------------------------------------------------------------- I-SAT and saturated
isat2 <- '
a1 ~ ma*1; a2 ~ ma*1; v1 ~ mv*1; v2 ~ mv*1
a1 ~~ va*a1; a2 ~~ va*a2; v1 ~~ vv*v1; v2 ~~ vv*v2
a1 ~~ w*v1; a2 ~~ w*v2
a1 ~~ sa*a2; v1 ~~ sv*v2
a1 ~~ c*v2; a2 ~~ c*v1
path_av := (vv*c - w*sv) / (va*vv - w^2) * sqrt(va / vv)
path_va := (va*c - w*sa) / (va*vv - w^2) * sqrt(vv / va)
r_cross := c / sqrt(va*vv)
'
isat1 <- '
m1 ~ mm*1; m2 ~ mm*1
m1 ~~ vm*m1; m2 ~~ vm*m2
m1 ~~ cm*m2
icc := cm / vm
'
sat2 <- '
a1 ~ 1; a2 ~ 1; v1 ~ 1; v2 ~ 1
a1 ~~ s11*a1 + s12*v1 + s13*a2 + s14*v2
v1 ~~ s22*v1 + s23*a2 + s24*v2
a2 ~~ s33*a2 + s34*v2
v2 ~~ s44*v2
pathB := (s22*s14 - s12*s24) / (s11*s22 - s12^2) * sqrt(s11 / s44)
pathA := (s44*s23 - s34*s24) / (s33*s44 - s34^2) * sqrt(s33 / s22)
path_mean := (pathA + pathB) / 2
rB := s14 / sqrt(s11*s44)
rA := s23 / sqrt(s33*s22)
'
fit_all <- function(model, est) lavaan(model, data = wide, estimator = est, meanstructure = TRUE)
isat <- list()
for (est in c("ML", "MLR")) {
  f2 <- fit_all(isat2, est); f1 <- fit_all(isat1, est); fs <- fit_all(sat2, est)
  isat[[est]] <- list(
    two = list(chisq = num(fitMeasures(f2, "chisq")), df = num(fitMeasures(f2, "df")),
               pvalue = num(fitMeasures(f2, "pvalue")), estimates = est_table(f2)),
    one = list(chisq = num(fitMeasures(f1, "chisq")), df = num(fitMeasures(f1, "df")),
               pvalue = num(fitMeasures(f1, "pvalue")), estimates = est_table(f1)),
    saturated = list(estimates = est_table(fs)))
}

# ---------------------------------------------------------------- the path of true scores (single indicators)
# error variances fixed at (1 - reliability) times the I-SAT variance of each score (reliabilities .85, .90)
rel <- c(a = 0.85, v = 0.90)
pool_var <- function(x1, x2) { m <- mean(c(x1, x2)); mean(c((x1 - m)^2, (x2 - m)^2)) }
th <- c(a = (1 - rel[["a"]]) * pool_var(wide$a1, wide$a2), v = (1 - rel[["v"]]) * pool_var(wide$v1, wide$v2))
isat_true <- sprintf('
A1 =~ 1*a1; A2 =~ 1*a2; V1 =~ 1*v1; V2 =~ 1*v2
a1 ~~ %1$.17g*a1; a2 ~~ %1$.17g*a2; v1 ~~ %2$.17g*v1; v2 ~~ %2$.17g*v2
a1 ~ ma*1; a2 ~ ma*1; v1 ~ mv*1; v2 ~ mv*1
A1 ~ 0*1; A2 ~ 0*1; V1 ~ 0*1; V2 ~ 0*1
A1 ~~ va*A1; A2 ~~ va*A2; V1 ~~ vv*V1; V2 ~~ vv*V2
A1 ~~ w*V1; A2 ~~ w*V2
A1 ~~ sa*A2; V1 ~~ sv*V2
A1 ~~ c*V2; A2 ~~ c*V1
path_av := (vv*c - w*sv) / (va*vv - w^2) * sqrt(va / vv)
', th[["a"]], th[["v"]])
true_path <- list()
for (est in c("ML", "MLR")) {
  f <- lavaan(isat_true, data = wide, estimator = est)
  true_path[[est]] <- list(reliability = unname(rel), theta = unname(th), estimates = est_table(f))
}

# ---------------------------------------------------------------- APIM
apim_dist <- '
v1 ~ aA*a1 + pA*a2
v2 ~ aB*a2 + pB*a1
kA := pA / aA
kB := pB / aB
'
apim_indist <- '
v1 ~ a*a1 + p*a2
v2 ~ a*a2 + p*a1
a1 ~ mx*1; a2 ~ mx*1
v1 ~ iy*1; v2 ~ iy*1
a1 ~~ vx*a1; a2 ~~ vx*a2
v1 ~~ ve*v1; v2 ~~ ve*v2
a1 ~~ a2
v1 ~~ v2
k := p / a
'
apim <- list()
for (est in c("ML", "MLR")) {
  fd <- sem(apim_dist, data = wide, estimator = est, fixed.x = FALSE, meanstructure = TRUE)
  fi <- sem(apim_indist, data = wide, estimator = est, fixed.x = FALSE, meanstructure = TRUE)
  apim[[est]] <- list(distinguishable = est_table(fd), indistinguishable = est_table(fi),
                      indistinguishable_chisq = num(fitMeasures(fi, "chisq")),
                      indistinguishable_df = num(fitMeasures(fi, "df")))
}

# ---------------------------------------------------------------- ICC (psych)
ic <- psych::ICC(cbind(wide$m1, wide$m2), lmer = FALSE)
icc1 <- ic$results[ic$results$type == "ICC1", ]
icc <- list(icc1 = num(icc1$ICC), F = num(icc1$F), df1 = num(icc1$df1), df2 = num(icc1$df2),
            p = num(icc1$p), lower = num(icc1$`lower bound`), upper = num(icc1$`upper bound`),
            pearson = num(cor(wide$m1, wide$m2)))

# ---------------------------------------------------------------- clustered respondents (survey, sandwich)
long$cluster <- ifelse(is.na(long$couple), long$id, long$couple)
# svygofchisq (survey 4.1-1) pairs the reference proportions with the categories in alphabetical
# order of their names (split() sorts them) while the counts stay in level order; levels named so
# that both orders agree give the intended test.
p_ref <- c(s1_secure = 0.4, s2_preoccupied = 0.2, s3_dismissing = 0.2, s4_fearful = 0.2)
long$style <- factor(paste0(c(secure = "s1_", preoccupied = "s2_", dismissing = "s3_",
                              fearful = "s4_")[long$style], long$style), levels = names(p_ref))
des <- svydesign(ids = ~cluster, data = long, weights = ~1)
sv <- svyvar(~anxiety + minmax_index, des)     # covariance matrix and the design-based vcov of vec(S)
S <- unclass(sv); V <- attr(sv, "var")
r_ac <- S[1, 2] / sqrt(S[1, 1] * S[2, 2])
grad <- c(-r_ac / (2 * S[1, 1]), 1 / sqrt(S[1, 1] * S[2, 2]), 0, -r_ac / (2 * S[2, 2]))  # d r / d vec(S)
gof <- svygofchisq(~style, p = p_ref, design = des)
lmfit <- lm(anxiety ~ I(gender == "female"), data = long)
vc <- vcovCL(lmfit, cluster = ~cluster, type = "HC1")
cluster <- list(
  r = num(r_ac), r_se = num(sqrt(drop(t(grad) %*% V %*% grad))),
  n = nrow(long), n_clusters = length(unique(long$cluster)),
  gof_statistic = num(gof$statistic), gof_scale = num(gof$parameter["scale"]),
  gof_df = num(gof$parameter["df"]), gof_p = num(gof$p.value), gof_lambda = num(gof$lambda),
  diff = num(coef(lmfit)[2]), diff_se = num(sqrt(diag(vc))[2]),
  diff_t = num(coef(lmfit)[2] / sqrt(diag(vc))[2]))

# ---------------------------------------------------------------- log-linear pairing
styles <- c("secure", "preoccupied", "dismissing", "fearful")
sa <- as.character(A$style); sb <- as.character(B$style)
idx <- function(s) match(s, styles)
ua <- pmin(idx(sa), idx(sb)); ub <- pmax(idx(sa), idx(sb))
cells <- expand.grid(j = 1:4, k = 1:4); cells <- cells[cells$j <= cells$k, ]
cells$count <- sapply(seq_len(nrow(cells)), function(i) sum(ua == cells$j[i] & ub == cells$k[i]))
for (m in 1:4) cells[[paste0("n", m)]] <- (cells$j == m) + (cells$k == m)
for (m in 1:4) cells[[paste0("d", m)]] <- as.numeric(cells$j == m & cells$k == m)
cells$off <- ifelse(cells$j == cells$k, 0, log(2))
cells$comp <- as.numeric(cells$j == 2 & cells$k == 3)
g0 <- glm(count ~ n2 + n3 + n4 + d1 + d2 + d3 + d4 + offset(off), family = poisson, data = cells)
g1 <- update(g0, . ~ . + comp)
oc <- as.data.frame(table(factor(sa, levels = styles), factor(sb, levels = styles)))
names(oc) <- c("sa", "sb", "count")
oc$diag <- ifelse(oc$sa == oc$sb, as.character(oc$sa), "none")
oc$comp <- as.numeric((oc$sa == "preoccupied" & oc$sb == "dismissing") | (oc$sa == "dismissing" & oc$sb == "preoccupied"))
h0 <- glm(count ~ sa + sb + diag, family = poisson, data = oc)
h1 <- update(h0, . ~ . + comp)
loglinear <- list(
  unordered = list(counts = cells$count, deviance0 = num(deviance(g0)), deviance1 = num(deviance(g1)),
                   df0 = num(df.residual(g0)), df1 = num(df.residual(g1)),
                   gamma = num(coef(g1)["comp"]), gamma_se = num(sqrt(diag(vcov(g1)))["comp"]),
                   fitted1 = num(fitted(g1))),
  ordered = list(deviance0 = num(deviance(h0)), deviance1 = num(deviance(h1)),
                 df0 = num(df.residual(h0)), df1 = num(df.residual(h1)),
                 gamma = num(coef(h1)["comp"]), gamma_se = num(sqrt(diag(vcov(h1)))["comp"])))

# ---------------------------------------------------------------- dyadic invariance (dySEM style, FF)
dyadic_syntax <- function(level) {
  out <- c()
  for (f in list(list(name = "anx", idx = 1:6), list(name = "avo", idx = 7:12))) {
    for (p in c("a", "b")) {
      lab <- if (level == "configural") rep("", 6) else sprintf("l%s_%d*", f$name, f$idx)
      out <- c(out, sprintf("%s_%s =~ NA*%s_%d + %s", f$name, p, p, f$idx[1],
                            paste0(lab, sprintf("%s_%d", p, f$idx), collapse = " + ")))
      out <- c(out, sprintf("%s_%s ~~ %s*%s_%s", f$name, p, if (level != "configural" && p == "b") "NA" else "1",
                            f$name, p))
      out <- c(out, sprintf("%s_%s ~ %s*1", f$name, p, if (level == "intercept" && p == "b") "NA" else "0"))
      if (level == "intercept") out <- c(out, sprintf("%s_%d ~ t%d*1", p, f$idx, f$idx))
    }
    out <- c(out, sprintf("a_%d ~~ b_%d", f$idx, f$idx))
  }
  paste(out, collapse = "\n")
}
FIT <- c("npar", "ntotal", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea",
         "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "logl", "aic", "bic")
invariance <- list()
for (miss in c("listwise", "ml")) {
  invariance[[miss]] <- list()
  for (level in c("configural", "loading", "intercept")) {
    f <- cfa(dyadic_syntax(level), data = items, estimator = "ML", missing = miss, meanstructure = TRUE,
             auto.fix.first = FALSE)
    fm <- fitMeasures(f, FIT)
    invariance[[miss]][[level]] <- list(fit = as.list(setNames(num(fm), names(fm))),
                                       syntax = dyadic_syntax(level))
  }
}

out <- list(
  versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                  psych = as.character(packageVersion("psych")),
                  survey = as.character(packageVersion("survey")),
                  sandwich = as.character(packageVersion("sandwich"))),
  md5 = list(scores = unname(tools::md5sum("tests/data/dyads_scores.csv")),
             items = unname(tools::md5sum("tests/data/dyads_items.csv"))),
  isat = isat, true_path = true_path, apim = apim, icc = icc, cluster = cluster, loglinear = loglinear, invariance = invariance)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/dyads.json")
cat("wrote tests/reference/dyads.json\n")
