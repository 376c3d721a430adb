package Jobs::Cluster;

# Submission to a batch scheduler, shared by queue.pl (Grid Engine) and slurm.pl.
# A scheduler is described by a hash of small callbacks (see queue.pl / slurm.pl);
# everything else lives here:
#   - the option-mapping config (conf/queue.conf, conf/slurm.conf)
#   - the job script written to <logdir>/q/<name>.sh
#   - submission with retries, waiting on sync files, noticing vanished jobs,
#     cancelling on SIGINT/SIGTERM, and the final report.
#
# Config grammar (one directive per line, '#' starts a comment line):
#   command <submit command and its fixed options>
#   option <name>=* <args>      used when --<name> <v> is given; $0 in <args> becomes v
#   option <name>=<v> <args>    used when exactly --<name> <v> is given (args may be empty)
#   default <name>=<v>          as if --<name> <v> had been given when it was not
# A command-line option that no line describes is an error.

use strict;
use warnings;
use Cwd qw(getcwd);
use File::Basename qw(basename);
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);
use Exporter qw(import);
use Jobs::Common qw(
  task_ids task_log log_end_code report_and_exit ensure_dir job_logdir normalize_name
);

our @EXPORT_OK = qw(run_cluster_job read_config submit_args);

# Options the submitters handle themselves (never looked up in the config).
my %NATIVE = map { $_ => 1 } qw(config max_jobs_run pick);

sub read_config {
  my ($tool, $file, $builtin) = @_;
  my ($text, $origin);
  if (defined $file) {
    open(my $fh, '<', $file) or die "$tool: cannot read config file $file: $!\n";
    local $/;
    $text = <$fh>;
    close $fh;
    $origin = $file;
  } else {
    ($text, $origin) = ($builtin, "the built-in default config of $tool");
  }
  my %config = (command => undef, options => {}, defaults => {}, origin => $origin);
  my $lineno = 0;
  for my $line (split /\n/, $text) {
    $lineno++;
    next if $line =~ /^\s*(#|$)/;
    my $where = defined $file ? "$file:$lineno" : "$origin, line $lineno";
    my @f = split ' ', $line;
    my $kind = shift @f;
    if ($kind eq 'command') {
      die "$tool: $where: 'command' needs the submit command\n" unless @f;
      $config{command} = \@f;
    } elsif ($kind eq 'option' && @f && $f[0] =~ /^([A-Za-z][\w-]*)=(\S+)$/) {
      shift @f;
      $config{options}{normalize_name($1)}{$2} = \@f;
    } elsif ($kind eq 'default' && @f == 1 && $f[0] =~ /^([A-Za-z][\w-]*)=(\S+)$/) {
      $config{defaults}{normalize_name($1)} = $2;
    } else {
      die "$tool: $where: cannot parse '$line' (expected 'command ...', " .
        "'option name=value ...', 'option name=* ... \$0 ...' or 'default name=value')\n";
    }
  }
  die "$tool: $origin has no 'command' line\n" unless $config{command};
  return \%config;
}

# Maps --name value options (plus config defaults) to scheduler arguments.
sub submit_args {
  my ($tool, $config, $opts) = @_;
  my %given = %{$config->{defaults}};
  for my $name (keys %$opts) {
    $given{$name} = $opts->{$name} unless $NATIVE{$name};
  }
  my @args;
  for my $name (sort keys %given) {
    my $value = $given{$name};
    my $rules = $config->{options}{$name};
    my $template;
    if ($rules && exists $rules->{$value}) {
      $template = $rules->{$value};
    } elsif ($rules && exists $rules->{'*'}) {
      $template = $rules->{'*'};
    } else {
      (my $flag = $name) =~ s/_/-/g;
      die "$tool: command line option --$flag $value is not described in $config->{origin} " .
        "(or that value is not allowed); add an 'option $name=... ' line there\n";
    }
    push @args, map { (my $a = $_) =~ s/\$0/$value/g; $a } @$template;
  }
  return @args;
}

sub shell_quote {
  my ($s) = @_;
  $s =~ s/'/'\\''/g;
  return "'$s'";
}

sub job_base_name {
  my ($job) = @_;
  my $base = basename($job->{logfile});
  $base =~ s/\.log$//;
  if (defined $job->{jobvar}) {
    $base =~ s/\Q$job->{jobvar}\E//g;
    $base =~ s/\.\.+/./g;
    $base =~ s/^\.|\.$//g;
  }
  $base =~ s/[^\w.-]/_/g;
  return length($base) ? $base : 'job';
}

# The bash script every task runs: cd, path.sh, header, command, footer, sync file.
sub job_script {
  my (%a) = @_;
  my $job = $a{job};
  my $threads = $a{threads};
  my $task_expr = $job->{array} ? "\${$a{sched}{task_env}}" : $job->{start};
  my $jobvar = $job->{jobvar} // '';
  my $header_extra = $a{sched}{header_extra} // '';
  my $extra_setup = $a{sched}{script_setup} // '';
  my $date = strftime('%Y-%m-%dT%H:%M:%S', localtime);
  my $q = \&shell_quote;
  my $script = <<"EOF";
#!/usr/bin/env bash
# Written by $a{tool} at $date; one task of an array job runs this script.
cd ${\ $q->($a{cwd})} || exit 1
if [ -f ./path.sh ]; then . ./path.sh; fi
$extra_setup
task_id=$task_expr
jobvar=${\ $q->($jobvar)}
log=${\ $q->($job->{logfile})}
cmd=${\ $q->($job->{cmd})}
sync_file=${\ $q->($a{sync_prefix})}.\$task_id
if [ -n "\$jobvar" ]; then
  log=\${log//"\$jobvar"/\$task_id}
  cmd=\${cmd//"\$jobvar"/\$task_id}
fi
mkdir -p "\$(dirname "\$log")"
{
  printf '# %s\\n' "\${cmd//\$'\\n'/\$'\\n'# }"
  echo "# Started at \$(date)"
  echo "# Running on \$(hostname)"
EOF
  $script .= "  $header_extra\n" if $header_extra;
  $script .= <<"EOF";
} > "\$log"
got_signal=
trap 'got_signal=TERM; kill -TERM "\$child" 2>/dev/null' TERM
trap 'got_signal=INT; kill -INT "\$child" 2>/dev/null' INT
start=\$(date +%s)
bash -o pipefail -c "\$cmd" >> "\$log" 2>&1 < /dev/null &
child=\$!
wait "\$child"
code=\$?
if [ -n "\$got_signal" ]; then
  wait "\$child" 2>/dev/null
  echo "# Job received SIG\$got_signal (cancelled, or the time limit was reached?)" >> "\$log"
fi
end=\$(date +%s)
if [ "\$code" -eq 137 ]; then
  echo "# Job killed with SIGKILL (out of memory? exceeded the memory limit?)" >> "\$log"
fi
echo "# Accounting: time=\$((end - start)) threads=$threads" >> "\$log"
echo "# Ended (code \$code) at \$(date)" >> "\$log"
sync "\$log" 2>/dev/null || true
printf '%s\\n' "\$code" > "\$sync_file.tmp" && mv "\$sync_file.tmp" "\$sync_file"
exit "\$code"
EOF
  return $script;
}

# Runs a command, returning (exit code, combined stdout+stderr).
sub capture {
  my (@cmd) = @_;
  my $pid = open(my $fh, '-|');
  die "fork failed: $!\n" unless defined $pid;
  if ($pid == 0) {
    open(STDERR, '>&', \*STDOUT);
    exec { $cmd[0] } @cmd or do { print "cannot run $cmd[0]: $!\n"; exit 127 };
  }
  local $/;
  my $out = <$fh> // '';
  close $fh;
  return ($? >> 8, $out);
}

sub run_cluster_job {
  my (%a) = @_;
  my ($tool, $job, $sched) = @a{qw(tool job sched)};
  my $opts = $job->{opts};
  die "$tool: --pick is only supported by run.pl\n"
    if defined $opts->{pick} && $opts->{pick} ne 'all';

  my $config_file = $opts->{config};
  $config_file = $a{default_config} if !defined $config_file && -r $a{default_config};
  my $config = read_config($tool, $config_file, $a{builtin_config});
  my @option_args = submit_args($tool, $config, $opts);
  my $threads = $opts->{num_threads} || 1;

  my $logdir = job_logdir($job);
  my $qdir = "$logdir/q";
  ensure_dir($tool, "$qdir/sync");
  my $base = job_base_name($job);
  my $script_file = "$qdir/$base.sh";
  my $qlog = "$qdir/$base.log";
  my $sync_prefix = "$qdir/sync/done.$$";
  my @ids = task_ids($job);
  unlink map { "$sync_prefix.$_" } @ids;
  # Remove old task logs so a stale '# Ended' line is never mistaken for this run's.
  unlink map { task_log($job, $_) } @ids;

  open(my $fh, '>', $script_file) or die "$tool: cannot write $script_file: $!\n";
  print $fh job_script(
    tool => $tool, job => $job, sched => $sched, cwd => getcwd(), threads => $threads,
    sync_prefix => $sync_prefix,
  );
  close $fh;
  chmod 0755, $script_file;

  my @submit = (@{$config->{command}}, @option_args, @{$job->{raw}},
    $sched->{output_args}->($qlog));
  if ($job->{array}) {
    push @submit, $sched->{array_args}->($job->{start}, $job->{end}, $opts->{max_jobs_run});
  }
  push @submit, $script_file;

  my $job_id;
  for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub {
      if (defined $job_id) {
        my ($rc, $out) = capture($sched->{cancel_command}->($job_id));
        print STDERR "$tool: caught SIG$sig, cancelled job $job_id" .
          ($rc == 0 ? '' : " (cancelling failed: $out)") . "\n";
      } else {
        print STDERR "$tool: caught SIG$sig before the job was submitted\n";
      }
      exit($sig eq 'INT' ? 130 : 143);
    };
  }

  $job_id = submit($tool, $sched, \@submit);
  if (open(my $qfh, '>>', $qlog)) {
    print $qfh "# submitted as job $job_id: " . join(' ', @submit) . "\n";
    close $qfh;
  }

  my ($results, $why) = wait_for_tasks($tool, $sched, $job, $job_id, $sync_prefix, \@ids);
  unlink map { "$sync_prefix.$_" } @ids;
  report_and_exit($tool, $job, $results, $why);
  return 0;
}

sub submit {
  my ($tool, $sched, $cmd) = @_;
  my $tries = $sched->{submit_tries} // 4;
  for my $try (1 .. $tries) {
    my ($rc, $out) = capture(@$cmd);
    if ($rc == 0) {
      my $id = $sched->{parse_job_id}->($out);
      return $id if defined $id;
      die "$tool: could not find the job id in the output of: " . join(' ', @$cmd) . "\n$out";
    }
    if ($try < $tries && $out =~ $sched->{transient_error}) {
      my $wait = $sched->{retry_wait} // 20;
      print STDERR "$tool: submission failed (try $try of $tries), retrying in ${wait}s: $out";
      sleep $wait;
      next;
    }
    die "$tool: submission failed (exit code $rc): " . join(' ', @$cmd) . "\n$out";
  }
  return undef;
}

sub read_sync {
  my ($file) = @_;
  open(my $fh, '<', $file) or return undef;
  my $code = <$fh>;
  close $fh;
  return (defined $code && $code =~ /^(-?\d+)/) ? $1 : undef;
}

# Polls the sync files until every task reported, or the job left the queue.
sub wait_for_tasks {
  my ($tool, $sched, $job, $job_id, $sync_prefix, $ids) = @_;
  my %pending = map { $_ => 1 } @$ids;
  my (%results, %why);
  my $delay = 0.1;
  my $check_every = $sched->{first_check} // 2;
  my $next_check = time() + $check_every;
  my $polls = 0;
  my $sync_dir = "$sync_prefix";
  $sync_dir =~ s{/[^/]*$}{};
  while (%pending) {
    for my $id (sort { $a <=> $b } keys %pending) {
      my $code = read_sync("$sync_prefix.$id");
      next unless defined $code;
      $results{$id} = $code;
      delete $pending{$id};
    }
    last unless %pending;
    sleep $delay;
    $delay = $delay * 1.2 > 2 ? 2 : $delay * 1.2;
    if (++$polls % 10 == 0) {
      # Listing the directory makes NFS clients refresh their attribute cache.
      if (opendir(my $dh, $sync_dir)) { my @x = readdir $dh; closedir $dh; }
    }
    next if time() < $next_check;
    $check_every = $check_every * 1.5 > 60 ? 60 : $check_every * 1.5;
    $next_check = time() + $check_every;
    my $alive = $sched->{job_alive}->($job_id);
    next if !defined $alive || $alive;

    # The job left the queue; give slow file systems a moment to show the sync files.
    for my $grace (@{$sched->{vanish_grace} // [1, 2, 4]}) {
      sleep $grace;
      for my $id (keys %pending) {
        my $code = read_sync("$sync_prefix.$id");
        next unless defined $code;
        $results{$id} = $code;
        delete $pending{$id};
      }
      last unless %pending;
    }
    for my $id (sort { $a <=> $b } keys %pending) {
      my $code = log_end_code(task_log($job, $id));
      if (defined $code) {
        print STDERR "$tool: warning: no sync file for task $id of job $job_id, " .
          "but its log says it ended with code $code\n";
        $results{$id} = $code;
      } else {
        $results{$id} = undef;
        $why{$id} = "job $job_id vanished from the queue before the task finished: " .
          "cancelled, killed, time limit or node failure? Run again";
      }
      delete $pending{$id};
    }
  }
  return (\%results, \%why);
}

1;
