#!/usr/bin/env bash
# The exact commands that produced results/ (run from the repository root, virtualenv active).
# Each sweep trains (or resumes) every run under runs/ (git-ignored: models, checkpoints, per-run CSVs),
# evaluates the deterministic policies over the context grid and writes results/<Task>/
# {evaluation,summary,comparison,headline}.csv and sweep.png.  Rerunning a command skips finished runs
# and resumes interrupted ones from their last checkpoint.
#
#   bash results/commands.sh authors     # the paper's experiments under the authors' protocol (results/authors/)
#   bash results/commands.sh quick       # the earlier quick-profile runs
#   bash results/commands.sh extra-seeds [TASK]   # the seeds that complete the paper's 10 on CheetahVelocity and
#                                                 # AntDirection, each sweep's runs staged under results/ as it ends
#   bash results/commands.sh cartgoal-dqn         # CartGoal's 10 seeds with the authors' DQN, staged the same way
#   bash results/commands.sh own-env              # the stress test on a physics context (HalfCheetah's torso mass,
#                                                 # through mujoco_task), staged the same way (results/own-env/)
#   bash results/commands.sh settle               # CheetahVelocity's seeds 10-29, the new sample that decides its
#                                                 # "CSE beats SAC" (results/PROTOCOL.md section 9), staged the same way
#   bash results/commands.sh reproduce [FOLDER]   # the runs from before runs.csv, trained again: their provenance,
#                                                 # whether each reproduces the committed table, and where some
#                                                 # differ (other hardware) the re-runs' own tables (results/reruns/)
#   bash results/commands.sh open [PART] # the open questions the paper names (results/open/)
# Before a long queue, `cebe-deep sweep ... --dry-run` says what each of its runs would do, writing nothing
# (tests/deep/test_sweep_cli.py runs every sweep of the authors and open sections through it), and
#   DRY_RUN=1 bash results/commands.sh open     # the plan of a whole section: one line per cell, nothing written
# (copies, curves and scripts are only named; a run that a reuse step would copy in shows as "train").
set -euo pipefail
section=${1:-authors}
DRY_RUN=${DRY_RUN:-}

# run_step CMD...: run CMD, or under DRY_RUN only name it.
run_step() {
    if [ -n "$DRY_RUN" ]; then echo "would run: $*"; else "$@"; fi
}

# A sweep whose results folder already holds its evaluation.csv (or evaluation.csv.gz: --gzip) is skipped: its runs
# are committed there, and a fresh machine (without runs/) would otherwise train them again.  Delete the folder's
# evaluation table to redo it.
sweep_unless_done() {
    local results=$1; shift
    local table
    for table in "$results/evaluation.csv" "$results/evaluation.csv.gz"; do
        if [ -f "$table" ]; then echo "skip: $table is committed"; return 0; fi
    done
    if [ -n "$DRY_RUN" ]; then
        echo "$results: $(cebe-deep sweep "$@" --results "$results" --dry-run 2>&1 | tail -n 1)"
        return 0
    fi
    nice -n 10 cebe-deep sweep "$@" --results "$results" --workers "${WORKERS:-2}"
}

# The training curves of a sweep's runs (their Monitor files, under runs/): training_curves.csv and training.png
# in the results folder; skipped once committed (a fresh machine has no runs/ to read them from).
curves_unless_done() {  # curves_unless_done RESULTS ROOT/TASK METHODS
    local results=$1 runs=$2 method run dirs=()
    if [ -f "$results/training_curves.csv" ]; then echo "skip: $results/training_curves.csv is committed"; return 0; fi
    for method in ${3//,/ }; do for run in "$runs/$method"/seed*; do [ -d "$run" ] && dirs+=("$run"); done; done
    if [ ${#dirs[@]} = 0 ]; then echo "skip: no runs under $runs to read training curves from"; return 0; fi
    run_step cebe-deep curves "${dirs[@]}" --out "$results/training_curves.csv" --figure "$results/training.png"
}

if [ "$section" = authors ]; then
# ------------------------------------------------------------------------------------------------------------
# The paper's deep experiments under the authors' protocol (--profile authors: 8 envs, one update of 256 per
# Their per-episode tables are written gzipped (--gzip: evaluation.csv.gz, 0.6-1.3 MB instead of 5-11 MB of text).
# 8 env steps, per-network learning rates, prioritized replay, Huber critic loss, 256x256; budgets = the
# authors' iterations x 107 env steps).  Evaluated at the authors' test contexts and one-axis sweeps across the
# authors' context box, 64 episodes per context.  Runs live under runs/authors (resumable); rerunning finishes
# what is missing.  Cheapest first.  WORKERS=15 bash results/commands.sh authors on a 16-core machine.
sweep_unless_done results/authors/SimpleDirection --gzip --task SimpleDirection --profile authors --methods baseline,cse,ldr \
    --seeds 10 --contexts authors+sweeps --points 11 --root runs/authors
curves_unless_done results/authors/SimpleDirection runs/authors/SimpleDirection baseline,cse,ldr
sweep_unless_done results/authors/PendulumGoal --gzip --task PendulumGoal --profile authors --methods baseline,cse,ldr \
    --seeds 10 --contexts authors+sweeps --points 11 --root runs/authors
curves_unless_done results/authors/PendulumGoal runs/authors/PendulumGoal baseline,cse,ldr

# CartGoal.  The committed table is 5 seeds of SB3's plain DQN at 200k env steps: what the authors profile trained
# up to commit cf440db.  The authors profile now trains the authors' DQN (ContextDQN: double Q, dueling heads,
# prioritized replay; 2,000 iterations of 1,000 env steps = 2M env steps per run): its 10 seeds train, staged run by
# run, in the section cartgoal-dqn, which then replaces this folder (moved to results/quick/CartGoal-sb3-dqn-200k).
sweep_unless_done results/authors/CartGoal --gzip --task CartGoal --profile authors --methods baseline,cse,ldr --seeds 10 \
    --contexts authors+sweeps --points 11 --root runs/authors
curves_unless_done results/authors/CartGoal runs/authors/CartGoal baseline,cse,ldr

# PendulumGoal ablation (10 seeds x {baseline, CSE}, the authors' profile otherwise): which of task definition
# and replay decides the verdict.  (1) our earlier Gymnasium-order dynamics; (2) uniform instead of prioritized replay.
sweep_unless_done results/authors/PendulumGoal-gymnasium --gzip --task PendulumGoal --profile authors --methods baseline,cse \
    --seeds 10 --dynamics gymnasium --contexts authors+sweeps --points 11 --root runs/authors-gymnasium
curves_unless_done results/authors/PendulumGoal-gymnasium runs/authors-gymnasium/PendulumGoal baseline,cse
sweep_unless_done results/authors/PendulumGoal-uniform --gzip --task PendulumGoal --profile authors --methods baseline,cse \
    --seeds 10 --replay uniform --contexts authors+sweeps --points 11 --root runs/authors-uniform
curves_unless_done results/authors/PendulumGoal-uniform runs/authors-uniform/PendulumGoal baseline,cse

# The MuJoCo tasks at the authors' budgets (535k and 1.07M env steps per run: hours per run on 2 cores).  These
# trained the first seeds (CheetahVelocity 0-4, AntDirection 0-2); the rest of the paper's 10 come from the section
# extra-seeds, which merges them in (CheetahVelocity: all 10 since 2026-12-06; first-seeds/ keeps the first table).
sweep_unless_done results/authors/CheetahVelocity --gzip --task CheetahVelocity --profile authors --methods baseline,cse,ldr \
    --seeds 5 --contexts authors+sweeps --points 13 --root runs/authors
curves_unless_done results/authors/CheetahVelocity runs/authors/CheetahVelocity baseline,cse,ldr
sweep_unless_done results/authors/AntDirection --gzip --task AntDirection --profile authors --methods baseline,cse,ldr \
    --seeds 3 --contexts authors+sweeps --points 16 --root runs/authors
curves_unless_done results/authors/AntDirection runs/authors/AntDirection baseline,cse,ldr
fi

# merge_staged TASK SEED...: once every method of every SEED is staged, the task's tables from its first seeds and the
# staged ones.  The first seeds' evaluation.csv and training_curves.csv move (once) to first-seeds/, the only
# record of them (their run folders are not committed), and the task's evaluation.csv.gz, summary, comparison,
# headline, sweep.png, training curves and training.png are written from first-seeds/ + staged/, and runs.csv
# from staged/ (one row per staged run; the first seeds trained before provenance was recorded); then the
# write-ups' table blocks are refreshed (README.md: the protocol's; results/README.md: all).  The sentences around
# the blocks that quote numbers of the task must then be read again by hand.  Rerunning it rewrites the same files.
# stage_seeds TASK POINTS ROOT STAGED SEED...: train (authors profile, authors' contexts and sweeps; or the sweep
# flags in the array STAGE_FLAGS where it is set) each SEED's methods (baseline, cse, ldr; or those of
# STAGE_METHODS, e.g. "baseline cse") not staged yet under STAGED/<method>/seed<k>/,
# a few seeds at a time under ROOT, and stage their runs as each sweep ends: a run's small files (config.json,
# train_summary.json, evaluation.json, its evaluation.csv gzipped, the Monitor logs; not the model), to be
# committed, so that a later session on a fresh machine trains only the rest.  One sweep takes as many seeds (with
# the same methods to train) as keep every worker busy to the end: the fewest whose runs are a multiple of WORKERS
# (WORKERS=2 and three methods: two seeds, six runs in three rounds, where one seed a sweep leaves a worker idle
# for a third of the time; WORKERS=1 or 3: one seed).
stage_seeds() {
    local task=$1 points=$2 root=$3 staged=$4 seed method methods folder; shift 4
    local -a flags=(--profile authors --contexts authors+sweeps)
    if [ -n "${STAGE_FLAGS+set}" ]; then flags=("${STAGE_FLAGS[@]}"); fi
    folder=${task//\//__}; folder=${folder//:/__}  # the runs' folder (cebe_deep.tasks.task_folder)
    local workers=${WORKERS:-1} batch=() batch_methods= size
    for seed in "$@" ""; do  # "" ends the last batch
        methods=
        if [ -n "$seed" ]; then
            for method in ${STAGE_METHODS:-baseline cse ldr}; do
                [ -f "$staged/$method/seed$seed/evaluation.csv.gz" ] || methods=${methods:+$methods,}$method
            done
            if [ -z "$methods" ]; then echo "skip: $task seed $seed is staged"; continue; fi
        fi
        # the batch so far trains when this seed cannot join it (other methods, or the last seed)
        if [ ${#batch[@]} -gt 0 ] && [ "$methods" != "$batch_methods" ]; then
            _stage_batch; batch=()
        fi
        [ -n "$seed" ] || break
        batch+=("$seed"); batch_methods=$methods
        size=$(_seeds_per_sweep "$workers" "$methods")
        if [ ${#batch[@]} -ge "$size" ]; then _stage_batch; batch=(); fi
    done
}

# _seeds_per_sweep WORKERS METHODS: the fewest seeds whose runs (seeds x methods) are a multiple of WORKERS.
_seeds_per_sweep() {
    local workers=$1 count a b r
    count=$(tr ',' '\n' <<< "$2" | wc -l)
    a=$workers; b=$count
    while [ "$b" -gt 0 ]; do r=$((a % b)); a=$b; b=$r; done
    echo $((workers / a))
}

# _stage_batch: train stage_seeds' current batch (its seeds, its methods) in one sweep and stage each run.
_stage_batch() {
    local seeds=${batch[*]} method seed
    if [ ${#batch[@]} = 1 ]; then seeds="${batch[0]}-${batch[0]}"; else seeds=${seeds// /,}; fi
    run_step nice -n 10 cebe-deep sweep --task "$task" "${flags[@]}" --methods "$batch_methods" --seeds "$seeds" \
        --points "$points" --root "$root" --workers "$workers"
    for seed in "${batch[@]}"; do for method in ${batch_methods//,/ }; do
        run_step cebe-deep stage "$root/$folder/$method/seed$seed" --out "$staged/$method/seed$seed"
    done; done
}

# first_unstaged STAGED "METHODS" SEED...: the first STAGED/<method>/seed<k> (seed by seed, method by method) without
# its evaluation.csv.gz; prints nothing when every run is staged.
first_unstaged() {
    local staged=$1 methods=$2 seed method; shift 2
    for seed in "$@"; do for method in $methods; do
        [ -f "$staged/$method/seed$seed/evaluation.csv.gz" ] || { echo "$staged/$method/seed$seed"; return 0; }
    done; done
}

merge_staged() {
    local task=$1 folder=results/authors/$1 missing; shift
    missing=$(first_unstaged "$folder/staged" "baseline cse ldr" "$@")
    if [ -n "$missing" ]; then echo "not merged: $missing is not staged yet"; return 0; fi
    if [ ! -d "$folder/first-seeds" ]; then
        run_step mkdir -p "$folder/first-seeds"
        run_step git mv "$folder/evaluation.csv" "$folder/training_curves.csv" "$folder/first-seeds/"
    fi
    run_step cebe-deep summarize "$folder/first-seeds/evaluation.csv" "$folder"/staged/*/seed*/evaluation.csv.gz \
        --results "$folder" --gzip
    run_step cebe-deep curves "$folder/first-seeds/training_curves.csv" "$folder"/staged/*/seed* \
        --out "$folder/training_curves.csv" --figure "$folder/training.png"
    run_step cebe-deep report readme README.md --only protocol
    run_step cebe-deep report readme results/README.md
}

if [ "$section" = extra-seeds ]; then
# ------------------------------------------------------------------------------------------------------------
# The paper trains 10 policies per method; CheetahVelocity has seeds 0-4 and AntDirection 0-2 committed.  Their
# other seeds train here on the same training path (--profile authors, the same evaluation), one seed (those of its
# three methods not staged yet) at a time, and each finished run is staged at once (stage_seeds) under
# results/authors/<Task>/staged/<method>/seed<k>/.  Once every seed is staged, the task's tables are rebuilt from the
# committed seeds and the staged ones.  Hours per run on 2 cores (CheetahVelocity about 0.5-1 h, AntDirection
# 1-2.5 h): run the two tasks as two background jobs, `bash results/commands.sh extra-seeds CheetahVelocity`.
only=${2:-}
for spec in "CheetahVelocity 13 5 6 7 8 9" "AntDirection 16 3 4 5 6 7 8 9"; do
  read -r task points seeds <<< "$spec"
  if [ -n "$only" ] && [ "$only" != "$task" ]; then continue; fi
  stage_seeds "$task" "$points" runs/authors "results/authors/$task/staged" $seeds
  merge_staged "$task" $seeds
done
fi

if [ "$section" = cartgoal-dqn ]; then
# ------------------------------------------------------------------------------------------------------------
# CartGoal as the authors ran it: 10 seeds x {baseline, CSE, LDR} of the authors profile (ContextDQN, 2M env steps
# each, about 20-40 CPU-minutes per run), one seed at a time under runs/authors-dqn (apart from the SB3-DQN runs of
# runs/authors/CartGoal), each finished run staged at once under results/authors/CartGoal-dqn/staged/.  Once all 30
# are staged, the committed SB3-DQN folder moves to results/quick/CartGoal-sb3-dqn-200k (a labelled earlier run),
# the staged runs move into results/authors/CartGoal, its tables are written from them (the zero-action reference
# stays: it does not depend on the learner), and the write-ups' blocks are refreshed.
seeds="0 1 2 3 4 5 6 7 8 9"
stage_seeds CartGoal 11 runs/authors-dqn results/authors/CartGoal-dqn/staged $seeds
if [ -z "$(first_unstaged results/authors/CartGoal-dqn/staged "baseline cse ldr" $seeds)" ]; then
  folder=results/authors/CartGoal
  if [ ! -d results/quick/CartGoal-sb3-dqn-200k ]; then
    run_step git mv "$folder" results/quick/CartGoal-sb3-dqn-200k
    run_step mkdir -p "$folder"
    run_step git mv results/quick/CartGoal-sb3-dqn-200k/zero_action.csv "$folder/zero_action.csv"
    run_step git mv results/authors/CartGoal-dqn/staged "$folder/staged"
  fi
  run_step cebe-deep summarize "$folder"/staged/*/seed*/evaluation.csv.gz --results "$folder" --gzip
  run_step cebe-deep curves "$folder"/staged/*/seed* --out "$folder/training_curves.csv" --figure "$folder/training.png"
  run_step cebe-deep report readme README.md --only protocol
  run_step cebe-deep report readme results/README.md
else
  echo "not merged: CartGoal's 30 authors-DQN runs are not all staged yet"
fi
fi

if [ "$section" = own-env ]; then
# ------------------------------------------------------------------------------------------------------------
# The paper's stress test on a physics context, trained the way a researcher trains their own task (issue 29):
# HalfCheetah-v5 with its torso mass as context (cebe_deep.tasks.mujoco_examples: mujoco_task, the Jacobians by
# central differences of the real step; c0 = the model's 6.2502 kg, box +-50%), its own reward, trained at c0 with
# the authors' CheetahVelocity protocol and budget (--settings-of CheetahVelocity: 8 envs, one update of 256 per
# vector step, prioritized replay, 535k env steps), 5 seeds x {SAC, CSE, LDR}.  eps = 0.625 kg, 10% of c0 (the
# paper's 0.1 is in the units of its contexts; 0.1 kg would be 1.6% of this mass).  Evaluated at 11 masses across
# the box and c0, 64 episodes each.  Each finished run is staged under results/own-env/HalfCheetah-torso-mass/staged/
# (14-17 min of training per run on one core beside one other run, up to 35 min on a loaded machine); once all 15
# are, the folder's tables, curves, the zero-action reference and the verdicts (results/PROTOCOL.md, with the runs'
# eps) are written, and results/own-env/README.md's blocks refreshed (its sentences then read again by hand).
task=cebe_deep.tasks.mujoco_examples:half_cheetah_torso_mass
folder=results/own-env/HalfCheetah-torso-mass
seeds="0 1 2 3 4"
STAGE_FLAGS=(--profile authors --settings-of CheetahVelocity --eps 0.625)
stage_seeds "$task" 11 runs/own-env "$folder/staged" $seeds
unset STAGE_FLAGS
if [ -z "$(first_unstaged "$folder/staged" "baseline cse ldr" $seeds)" ]; then
  run_step cebe-deep summarize "$folder"/staged/*/seed*/evaluation.csv.gz --results "$folder" --gzip --eps 0.625
  run_step cebe-deep curves "$folder"/staged/*/seed* --out "$folder/training_curves.csv" --figure "$folder/training.png"
  run_step cebe-deep report protocol "$folder" --eps 0.625 --write-zero-action --csv "$folder/verdicts.csv"
  run_step cebe-deep report readme results/own-env/README.md
else
  echo "not merged: the stress test's 15 runs are not all staged yet"
fi
fi

if [ "$section" = settle ]; then
# ------------------------------------------------------------------------------------------------------------
# CheetahVelocity's "CSE beats SAC" holds in its committed table and not in the re-run of all its runs
# (results/README.md, "How it was run").  results/PROTOCOL.md section 9 fixed, before any of these runs trained,
# what decides it: 20 new seeds (10-29) x {SAC, CSE, LDR} with the command of the authors section above (the same
# training path, on one machine; runs.csv records which), each finished run staged under
# results/settle/CheetahVelocity-new-seeds/staged/ (17 to 24 min a run on one core of the AMD EPYC, 375 to 522 env
# steps/s, seeds 10-11; with WORKERS=2 two seeds' six runs a sweep, about an hour, 10-12 h in all; WORKERS=3 on a
# machine with 3 free cores one seed a sweep).
# Once all 60 are staged: the new seeds' own tables (results/settle/CheetahVelocity-new-seeds/), the zero-action
# reference of the committed table (the same contexts; it involves no learner), the verdicts of the three
# samples side by side, and the 40 runs per method pooled (secondary).  Then the write-ups are changed by hand as
# section 9 says, whatever the new seeds say.
# Each sweep refuses to start if a staged run trained on another machine (--same-machine-as: the CPU, torch and its
# kernels, as runs.csv's `machine` names them); section 9 says what happens then.
seeds=$(seq 10 29)
folder=results/settle/CheetahVelocity-new-seeds
STAGE_FLAGS=(--profile authors --contexts authors+sweeps --same-machine-as "$folder/staged")
stage_seeds CheetahVelocity 13 runs/settle "$folder/staged" $seeds
unset STAGE_FLAGS
if [ -z "$(first_unstaged "$folder/staged" "baseline cse ldr" $seeds)" ]; then
  run_step cebe-deep summarize "$folder"/staged/*/seed*/evaluation.csv.gz --results "$folder" --gzip
  run_step cebe-deep curves "$folder"/staged/*/seed* --out "$folder/training_curves.csv" --figure "$folder/training.png"
  run_step cp results/authors/CheetahVelocity/zero_action.csv "$folder/zero_action.csv"
  run_step cebe-deep report protocol results/authors/CheetahVelocity results/reruns/CheetahVelocity-rerun "$folder" \
      --compact --csv "$folder/verdicts.csv"
  run_step cebe-deep report pooled results/authors/CheetahVelocity results/reruns/CheetahVelocity-rerun "$folder"
else
  echo "not summarized: CheetahVelocity's 60 settling runs are not all staged yet"
fi
fi

if [ "$section" = reproduce ]; then
# ------------------------------------------------------------------------------------------------------------
# Provenance for the runs that trained before runs.csv existed, whose run folders were not kept: SimpleDirection,
# PendulumGoal and its ablation (10 seeds each), CheetahVelocity's seeds 0-4 and AntDirection's 0-2.  Each is
# trained again, with the command that trained it (its task's section above), on this commit, one seed at a time
# under runs/reproduce, and staged under results/authors/<Task>/reproduced/<method>/seed<k>/; then
# `cebe-deep report runs` writes the folder's runs.csv, one row per reproduced run whose column `reproduces` says
# whether its evaluation equals the committed table's, episode for episode (`identical`: the committed numbers
# are this run's), or by how much it differs.  The tables themselves are left as they are.  Cheapest first
# (SimpleDirection about 1.5 min a run on a quiet core; AntDirection about an hour); `bash results/commands.sh
# reproduce SimpleDirection` does one folder.  CheetahVelocity and AntDirection re-run their first seeds (the runs
# without provenance) unless SEEDS says otherwise: `SEEDS=5-9 bash results/commands.sh reproduce CheetahVelocity`
# re-runs the later seeds too, so that the re-run table covers all 10 seeds and is set beside the whole table.
only=${2:-}
if [ -n "${SEEDS:-}" ] && [ -z "$only" ]; then
  echo "commands.sh: SEEDS=$SEEDS needs one folder: SEEDS=$SEEDS bash results/commands.sh reproduce FOLDER" >&2; exit 2
fi
for spec in "SimpleDirection SimpleDirection 11 0-9" "PendulumGoal PendulumGoal 11 0-9" \
        "PendulumGoal-gymnasium PendulumGoal 11 0-9 --dynamics gymnasium" \
        "PendulumGoal-uniform PendulumGoal 11 0-9 --replay uniform" \
        "CheetahVelocity CheetahVelocity 13 0-4" "AntDirection AntDirection 16 0-2"; do
  read -r folder task points first extra <<< "$spec"
  if [ -n "$only" ] && [ "$only" != "$folder" ]; then continue; fi
  seeds=${SEEDS:-$first}
  STAGE_FLAGS=(--profile authors --contexts authors+sweeps $extra)
  STAGE_METHODS="baseline cse ldr"
  case $folder in PendulumGoal-*) STAGE_METHODS="baseline cse" ;; esac
  stage_seeds "$task" "$points" "runs/reproduce/$folder" "results/authors/$folder/reproduced" $(seq ${seeds/-/ })
  run_step cebe-deep report runs "results/authors/$folder"
  # Once every run of the folder is re-run, and some differ from the committed table: its tables from the re-runs
  # alone, results/reruns/<Folder>-rerun, whose verdicts `cebe-deep report protocol results/authors/<Folder>
  # results/reruns/<Folder>-rerun` sets beside the committed ones (a re-run on another machine is not bit-identical:
  # results/README.md, "How it was run").  Where every re-run is identical the committed table is theirs already.
  # The re-run table covers all 10 seeds once they are re-run (set beside the whole table), else the first seeds
  # (beside first-seeds/, where later seeds were merged in).
  reproduced=results/authors/$folder/reproduced
  compared=()
  if [ -z "$(first_unstaged "$reproduced" "$STAGE_METHODS" $(seq 0 9))" ]; then
    rerun_seeds=0-9
    [ -d "results/authors/$folder/first-seeds" ] && compared=("results/authors/$folder")
  else
    rerun_seeds=$first
    [ -d "results/authors/$folder/first-seeds" ] && compared=("results/authors/$folder/first-seeds")
  fi
  missing=$(first_unstaged "$reproduced" "$STAGE_METHODS" $(seq ${rerun_seeds/-/ }))
  runs_csv=results/authors/$folder/runs.csv
  if [ -n "$missing" ]; then
    [ -n "$DRY_RUN" ] || echo "not summarized: $missing is not re-run yet"
  elif [ -f "$runs_csv" ] && ! grep -q ",differs" "$runs_csv"; then
    echo "skip: every re-run of $folder is identical to the committed table"
  else
    rerun=results/reruns/$folder-rerun
    tables=()
    for method in $STAGE_METHODS; do for seed in $(seq ${rerun_seeds/-/ }); do
      tables+=("$reproduced/$method/seed$seed/evaluation.csv.gz")
    done; done
    run_step cebe-deep summarize "${tables[@]}" --results "$rerun" --gzip
    # its training curves, from the staged runs' Monitor files (did every re-run learn c0?  `cebe-deep report
    # training results/reruns`)
    curves=()
    for method in $STAGE_METHODS; do for seed in $(seq ${rerun_seeds/-/ }); do
      curves+=("$reproduced/$method/seed$seed")
    done; done
    run_step cebe-deep curves "${curves[@]}" --out "$rerun/training_curves.csv" --figure "$rerun/training.png"
    dynamics=()
    case $extra in *gymnasium*) dynamics=(--dynamics "$folder-rerun=gymnasium") ;; esac
    # and prints its verdicts; where later seeds were merged in (CheetahVelocity, AntDirection), beside those of the
    # table these runs re-run
    run_step cebe-deep report protocol "${compared[@]}" "$rerun" --write-zero-action "${dynamics[@]}"
  fi
  unset STAGE_FLAGS STAGE_METHODS
done
fi

if [ "$section" = quick ]; then
# These ran on the code of commit 398f724 (git checkout 398f724 reproduces them exactly).  With today's code
# PendulumGoal needs --dynamics gymnasium (its default is now the authors' dynamics), and the results differ
# in details (angle grids count -pi = pi once; SB3 Monitor logs).

# SimpleDirection (d = 2): 5 seeds x {baseline, CSE, LDR}, quick profile (10k steps, 64x64, gamma 0.9),
# 64 evaluation episodes per context, 11 points per context coordinate.
nice -n 10 cebe-deep sweep --task SimpleDirection --methods baseline,cse,ldr --seeds 5 \
    --episodes 64 --points 11 --root runs --results results/quick/SimpleDirection --workers 2

# PendulumGoal: 10 seeds x {baseline, CSE, LDR}, quick profile (30k steps, 64x64, gamma 0.99),
# 32 evaluation episodes per context, 11 points per context coordinate.  Seeds 0-4 ran here (--seeds 5,
# --workers 2); seeds 5-9 ran on a 16-core machine (--seeds 5-9 --workers 15, same command otherwise) and
# their run directories were copied into runs/; this command then skips all 30 finished runs and collects.
nice -n 10 cebe-deep sweep --task PendulumGoal --methods baseline,cse,ldr --seeds 10 --steps 30000 --dynamics gymnasium \
    --episodes 32 --points 11 --root runs --results results/quick/PendulumGoal --workers 2

# PendulumGoal diagnosis: CSE with exact re-simulated samples (the authors' second variant), 10 seeds, same
# settings, under its own root; then compared with the committed baseline and LDR.
nice -n 10 cebe-deep sweep --task PendulumGoal --methods cse --seeds 10 --steps 30000 --cse-mode exact --dynamics gymnasium \
    --episodes 32 --points 11 --root runs/diag-exact --workers 2
cebe-deep summarize results/quick/PendulumGoal/evaluation.csv cse_exact=runs/diag-exact/PendulumGoal/evaluation.csv \
    --candidate cse_exact --results results/quick/PendulumGoal-cse-exact

# Benchmark: SAC update time and training-loop speed with and without CSE.
python benchmarks/bench_cse.py --repeats 25 --gradient-steps 40 --loop-steps 3000 | grep -v WARNING \
    > results/benchmark_cse.txt

# MuJoCo, a reduced run (far below the paper's budget): 8 seeds x {baseline, CSE, LDR}, 30k steps,
# 64x64 networks, 8 evaluation episodes per context, 9 points per context coordinate.  Seeds 0-2 ran here
# (--seeds 3), seeds 3-7 on a 16-core machine (--seeds 3-7 --workers 15); these commands collect all eight.
nice -n 5 cebe-deep sweep --task CheetahVelocity --methods baseline,cse,ldr --seeds 8 --steps 30000 --net 64,64 \
    --episodes 8 --points 9 --root runs --results results/quick/CheetahVelocity --workers 2
nice -n 5 cebe-deep sweep --task AntDirection --methods baseline,cse,ldr --seeds 8 --steps 30000 --net 64,64 \
    --episodes 8 --points 9 --root runs --results results/quick/AntDirection --workers 2

# MuJoCo at 100k steps (a reduced budget between the 30k runs and the authors'), 3 seeds x {baseline, CSE, LDR}, otherwise as above;
# its own --root because the run configurations differ from the 30k runs.
nice -n 5 cebe-deep sweep --task CheetahVelocity --methods baseline,cse,ldr --seeds 3 --steps 100000 --net 64,64 \
    --episodes 8 --points 9 --root runs/reduced-100k --results results/quick/CheetahVelocity-100k --workers 2
nice -n 5 cebe-deep sweep --task AntDirection --methods baseline,cse,ldr --seeds 3 --steps 100000 --net 64,64 \
    --episodes 8 --points 9 --root runs/reduced-100k --results results/quick/AntDirection-100k --workers 2

# The tables of results/quick/README.md and the numbers quoted in its text, printed from the committed CSVs.
for task in SimpleDirection PendulumGoal CheetahVelocity AntDirection CheetahVelocity-100k AntDirection-100k; do
    cebe-deep report markdown results/quick/$task
done
cebe-deep report per-seed results/quick/PendulumGoal context_3 0 0.6 0.9 -0.6
cebe-deep report per-seed results/quick/PendulumGoal context_0 3.4
cebe-deep report per-seed results/quick/CheetahVelocity context_0 2 4
cebe-deep report per-seed results/quick/CheetahVelocity-100k context_0 3 3.5 4
cebe-deep report per-seed results/quick/AntDirection angle 0
cebe-deep report per-seed-above results/quick/AntDirection-100k
cebe-deep report zero-action CheetahVelocity 0 2 4
cebe-deep report zero-action AntDirection 0 1.5707963

# The paper profile starts (and resumes) on the MuJoCo tasks; these full runs were not done here.
# cebe-deep train --task CheetahVelocity --method cse --profile paper --seed 0
# cebe-deep train --task AntDirection --method cse --profile paper --seed 0
fi

if [ "$section" = open ]; then
# The open questions the paper names (answers in results/open/README.md).  --profile authors, 5 seeds
# per cell; each cell has its own --root under runs/open/<experiment>/ (run directories are
# runs/open/<experiment>/<cell>/<Task>/<method>/seed<k>) and its own --results folder.  A cell whose results
# folder holds its evaluation.csv is skipped (committed); the others train what is missing and resume the rest.
#   bash results/commands.sh open [all|tabular|jacobians|stochastic|eps|dimension|budget|dimension-eps|extrapolation|report]
part=${2:-all}
parts="all tabular jacobians stochastic eps dimension budget dimension-eps extrapolation report"
if [[ " $parts " != *" $part "* ]]; then
    echo "results/commands.sh open: unknown part '$part'; choose one of: $parts" >&2
    exit 2
fi
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }

# A cell whose configuration equals a run already trained elsewhere (sigma = 0 is plain CSE; eps 0.1 on the
# sphere is the authors' setting; d = 2 is SimpleDirection as in results/authors) takes that run's final model
# instead of training it again: config.json, model.zip, train_summary.json and the Monitor logs are copied, so the
# sweep finds the run trained (it checks the config) and only evaluates it.  A source run not trained on this
# machine is skipped, and the sweep then trains that run itself.
reuse_runs() {  # reuse_runs FROM_ROOT TO_ROOT TASK METHODS SEEDS [STEPS: only runs whose config says this budget]
    local from=$1 to=$2 task=$3 steps=${6:-} method seed
    for method in ${4//,/ }; do for seed in $(seq 0 $(($5 - 1))); do
        local src=$from/$task/$method/seed$seed dst=$to/$task/$method/seed$seed
        if [ -n "$steps" ] && ! grep -Eq "\"total_steps\": $steps[,}[:space:]]" "$src/config.json" 2>/dev/null; then continue; fi
        if [ -f "$src/model.zip" ] && [ -f "$src/train_summary.json" ] && [ ! -f "$dst/model.zip" ]; then
            if [ -n "$DRY_RUN" ]; then echo "would reuse: $src -> $dst"; continue; fi
            mkdir -p "$dst"
            cp -r "$src/config.json" "$src/model.zip" "$src/train_summary.json" "$src/monitor" "$dst/"
        fi
    done; done
}

# Open question 1, tabular side (exact, seconds): results/open/stochastic-tabular/
if want tabular; then run_step cebe-theory stochastic-cse --out results/open/stochastic-tabular; fi

# 2. Inexact Jacobians (OQ3): PendulumGoal CSE with each stored partial times (1 + sigma N(0, 1)), times a bias,
# or central finite differences of step h (cost per step in each run's fd_cost.json); at the authors' test
# contexts.  Baseline and LDR for reference: results/authors/PendulumGoal.
if want jacobians; then
reuse_runs runs/authors runs/open/jacobians/noise-0 PendulumGoal cse 5
for sigma in 0 0.1 0.3 1.0; do
  sweep_unless_done results/open/jacobians/noise-$sigma --task PendulumGoal --profile authors --methods cse --seeds 5 \
      --jacobian-noise $sigma --contexts authors --episodes 64 --root runs/open/jacobians/noise-$sigma
done
for bias in 0.5 1.5; do
  sweep_unless_done results/open/jacobians/bias-$bias --task PendulumGoal --profile authors --methods cse --seeds 5 \
      --jacobian-bias $bias --contexts authors --episodes 64 --root runs/open/jacobians/bias-$bias
done
for h in 1e-2 1e-4; do
  sweep_unless_done results/open/jacobians/fd-$h --task PendulumGoal --profile authors --methods cse --seeds 5 \
      --fd-jacobians $h --contexts authors --episodes 64 --root runs/open/jacobians/fd-$h
done
fi

# 3. Stochastic transitions (OQ1): NoisyPendulumGoal (PendulumGoal's profile), noise sigma_n on the next speed;
# (a) first-order CSE with the reparameterized Jacobians, (c) baseline, (d) LDR in one sweep, (b) importance-
# weighted CSE (weights clipped at 10; ESS and clipped fraction in each run's importance.json) in another;
# evaluated at PendulumGoal's authors' test contexts (the noisy task has none of its own).
if want stochastic; then
C="2,1,1,0;2,1,1,0.75;2,1.2,1,-0.75"
for s in 0.05 0.2; do
  sweep_unless_done results/open/stochastic/noise-$s --task NoisyPendulumGoal --task-noise $s --profile authors \
      --methods baseline,cse,ldr --seeds 5 --contexts "$C" --episodes 64 --root runs/open/stochastic/noise-$s
  sweep_unless_done results/open/stochastic/noise-$s-importance --task NoisyPendulumGoal --task-noise $s \
      --profile authors --methods cse --cse-variant importance --max-weight 10 --seeds 5 --contexts "$C" --episodes 64 \
      --root runs/open/stochastic/noise-$s-importance
done
fi

# 5. eps and the perturbation shape: PendulumGoal CSE, eps x {sphere, ball}, at the authors' contexts and sweeps.
if want eps; then
reuse_runs runs/authors runs/open/eps/0.1-sphere PendulumGoal cse 5
for eps in 0.05 0.1 0.2 0.4; do for shape in sphere ball; do
  sweep_unless_done results/open/eps/$eps-$shape --task PendulumGoal --profile authors --methods cse --seeds 5 \
      --eps $eps --perturbation $shape --contexts authors+sweeps --points 11 --episodes 64 \
      --root runs/open/eps/$eps-$shape
done; done
# The 0.05-sphere cell was committed before sweeps wrote training curves.
curves_unless_done results/open/eps/0.05-sphere runs/open/eps/0.05-sphere/PendulumGoal cse
fi

# 1. Context dimension (OQ2): SimpleDirection in d = 2..32, the same env-step budget (the authors' 53,500) for
# every d, evaluated at dimension_test_contexts(d) (radii 0.2, 0.5, 0.8 x 16 directions; sweep column radius_<r>).
# Returns as a fraction of the closed-form optimum: cebe_deep.run.evaluation.with_fraction_of_optimum.  d = 2 is the
# task's default dimension: no --dimension flag, so its runs are those of results/authors/SimpleDirection.
# Budget to reach 90% of the optimum at r = 0.5, d = 8 and 32: one root per d, each larger --steps extends the
# finished runs (their final checkpoint is kept), one results folder per budget.  Its 53,500 stage is the
# dimension experiment's configuration exactly (an extended run continues bit for bit): at d = 8 and 32 the
# dimension cells take those runs (copied when the stage is trained, and only while their config says 53500), so
# they are trained once.  `open dimension` alone trains the budget stages up to 53,500; `open budget` all of them.
# --gzip: these tables repeat up to 32 context coordinates on every episode row (34 MiB of text at d = 32, 1 MiB gzipped).
if want dimension || want budget; then
for d in 8 32; do for steps in 5000 10000 20000 40000 53500 80000; do
  if [ $steps = 80000 ] && ! want budget; then continue; fi
  sweep_unless_done results/open/dimension-budget/d$d-$steps --task SimpleDirection --dimension $d --profile authors \
      --methods baseline,cse,ldr --seeds 5 --steps $steps --contexts dimension-test --episodes 64 --gzip \
      --root runs/open/dimension-budget/d$d
  if [ $steps = 53500 ] && want dimension; then
    reuse_runs runs/open/dimension-budget/d$d runs/open/dimension/d$d SimpleDirection baseline,cse,ldr 5 53500
  fi
done; done
fi
if want dimension; then
reuse_runs runs/authors runs/open/dimension/d2 SimpleDirection baseline,cse,ldr 5
for d in 2 4 8 16 32; do
  if [ $d = 2 ]; then dim=(); else dim=(--dimension $d); fi
  sweep_unless_done results/open/dimension/d$d --task SimpleDirection "${dim[@]}" --profile authors \
      --methods baseline,cse,ldr --seeds 5 --contexts dimension-test --episodes 64 --gzip --root runs/open/dimension/d$d
done
fi
# Follow-up to OQ2: LDR's c0 + eps N(0, I) reaches a radius of about eps sqrt(d), CSE's sphere stays at eps.  CSE with
# eps = 0.1 sqrt(d / 2) (the authors' 0.1 at d = 2): d = 8 with eps 0.2, d = 32 with eps 0.4; the same budget and
# test contexts as the dimension cells (their SAC and LDR are the comparison).
if want dimension-eps; then
for cell in 8:0.2 32:0.4; do
  d=${cell%%:*} eps=${cell##*:}
  sweep_unless_done results/open/dimension-eps/d$d-eps$eps --task SimpleDirection --dimension $d --profile authors \
      --methods cse --eps $eps --seeds 5 --contexts dimension-test --episodes 64 --gzip \
      --root runs/open/dimension-eps/d$d-eps$eps
done
# The converse: LDR with eps = 0.1 / sqrt(d / 2), whose c0 + eps N(0, I) then spreads about 0.1 sqrt(2), as at d = 2,
# against CSE at the authors' 0.1 (the dimension cells).
for cell in 8:0.05 32:0.025; do
  d=${cell%%:*} eps=${cell##*:}
  sweep_unless_done results/open/dimension-eps/d$d-ldr-eps$eps --task SimpleDirection --dimension $d --profile authors \
      --methods ldr --eps $eps --seeds 5 --contexts dimension-test --episodes 64 --gzip \
      --root runs/open/dimension-eps/d$d-ldr-eps$eps
done
fi

# 4. Far extrapolation: the finished CheetahVelocity runs of the authors' protocol (runs/authors, trained by
# the authors section above) re-evaluated at goal velocities -3 to 5.  Their final models are copied into
# runs/open/extrapolation first (cp fails, and the script stops, if a run has not finished), so that nothing
# under runs/authors is rewritten; the sweep finds every run trained and only evaluates.  Then the first-order
# reward error on sampled transitions (cebe_deep.report.open_questions.reward_error).
# Once committed (a fresh machine has no runs/authors to copy), the part is skipped; the reward error is measured
# again only while reward_error.csv has no policy-sampled rows.
if want extrapolation; then
if [ ! -f results/open/extrapolation/evaluation.csv ] && [ -z "$DRY_RUN" ]; then
  for run in runs/authors/CheetahVelocity/{baseline,cse,ldr}/seed{0,1,2,3,4}; do
    mkdir -p runs/open/extrapolation/${run#runs/authors/}
    cp $run/config.json $run/model.zip $run/train_summary.json runs/open/extrapolation/${run#runs/authors/}/
  done
fi
sweep_unless_done results/open/extrapolation --task CheetahVelocity --profile authors --methods baseline,cse,ldr \
    --seeds 5 --contexts="-3;-2;-1;0;1;2;3;3.5;4;4.5;5" --episodes 64 --root runs/open/extrapolation
if ! grep -q "policies of" results/open/extrapolation/reward_error.csv 2>/dev/null; then
  run_step python -m cebe_deep.report.open_questions.reward_error --out results/open/extrapolation/reward_error.csv
else
  echo "skip: results/open/extrapolation/reward_error.csv has its policy-sampled rows"
fi
fi

# Copy each cell's run logs (importance-weight ESS, finite-difference cost) into its results folder, then
# print every answer and draw the figures (results/open/README.md quotes these).
if want report; then
run_step cebe-deep report open results/open collect-logs
run_step cebe-deep report open results/open all --figure results/open/figures
fi
fi
